"""The line framer, fed without I/O: lines, prompt, garbage, cap, any split of the bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modem.transport import MAX_LINE_BYTES, Line, LineFramer, Prompt


def feed_all(data: bytes, chunks: list[int] | None = None) -> list[object]:
    framer = LineFramer()
    if chunks is None:
        return list(framer.feed(data))
    events: list[object] = []
    pos = 0
    for size in chunks:
        events += framer.feed(data[pos : pos + size])
        pos += size
    events += framer.feed(data[pos:])
    return events


def test_lines_and_blank_lines() -> None:
    assert feed_all(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n") == [Line("+CSQ: 20,99"), Line("OK")]


def test_prompt_without_line_end() -> None:
    assert feed_all(b"\r\n> ") == [Prompt()]


def test_lone_cr_or_lf_end_lines() -> None:
    assert feed_all(b"AT\rOK\nERROR\r\n") == [Line("AT"), Line("OK"), Line("ERROR")]


def test_garbage_line_is_dropped_and_next_line_survives() -> None:
    framer = LineFramer()
    assert framer.feed(b"\x00\xff\xfe\x13junk\r\nOK\r\n") == [Line("OK")]
    assert framer.garbage_bytes > 0


def test_over_long_line_is_capped_then_resyncs() -> None:
    framer = LineFramer()
    assert framer.feed(b"A" * (MAX_LINE_BYTES * 3)) == []
    assert framer.feed(b"tail\r\nOK\r\n") == [Line("OK")]


def test_utf8_text_is_kept() -> None:
    assert feed_all('+CUSD: 0,"Solde 5,00 $ – merci",15\r\n'.encode()) == [
        Line('+CUSD: 0,"Solde 5,00 $ – merci",15')
    ]


_line = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60
)


@settings(max_examples=300)
@given(lines=st.lists(_line, max_size=10), data=st.data())
def test_any_split_gives_the_same_lines(lines: list[str], data: st.DataObject) -> None:
    stream = b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines)
    chunks = data.draw(st.lists(st.integers(min_value=0, max_value=8), max_size=len(stream)))
    # A lone ">" line stays a line: only "> " without a line end is the prompt.
    assert feed_all(stream, chunks) == [Line(line) for line in lines]


@settings(max_examples=500)
@given(noise=st.binary(max_size=MAX_LINE_BYTES * 2))
def test_noise_never_raises_and_is_bounded(noise: bytes) -> None:
    framer = LineFramer()
    for event in framer.feed(noise):
        if isinstance(event, Line):
            assert len(event.text.encode()) <= MAX_LINE_BYTES
            assert all(ch >= " " or ch == "\t" for ch in event.text)
    # Whatever came before, a clean line after a line end is read.
    assert framer.feed(b"\r\nOK\r\n")[-1:] == [Line("OK")]
