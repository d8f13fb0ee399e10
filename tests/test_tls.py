"""HTTPS on the LAN: a certificate made on first run, and the pages really served over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import stat
from pathlib import Path

import httpx
from cryptography import x509

from gateway.config import from_mapping
from gateway.service import Gateway
from gateway.tls import ensure_certificate, is_loopback
from gateway.webserver import serve_web


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("localhost")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.20")


def test_certificate_is_made_once_with_a_private_key(tmp_path: Path) -> None:
    paths = ensure_certificate(tmp_path / "tls", "192.168.1.20")
    assert stat.S_IMODE(paths.key.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(paths.certificate.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} >= {
        "192.168.1.20",
        "127.0.0.1",
    }
    before = paths.certificate.read_bytes()
    assert ensure_certificate(tmp_path / "tls", "192.168.1.20").certificate.read_bytes() == before


async def test_pages_are_served_over_https(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = from_mapping({}, {"storage.path": str(tmp_path / "db.sqlite")})
    async with Gateway(config, ()) as gateway:
        server = asyncio.create_task(
            serve_web(gateway, host="127.0.0.1", port=port, tls="on", tls_dir=tmp_path / "tls")
        )
        try:
            cert = str(tmp_path / "tls" / "tocsin-cert.pem")
            async with asyncio.timeout(15):
                while not Path(cert).exists():  # made by serve_web before it listens
                    await asyncio.sleep(0.02)
            context = ssl.create_default_context(cafile=cert)
            async with httpx.AsyncClient(verify=context) as client:
                async with asyncio.timeout(15):
                    while True:
                        try:
                            response = await client.get(f"https://localhost:{port}/login")
                            break
                        except httpx.ConnectError:
                            await asyncio.sleep(0.05)
            assert response.status_code == 200
            assert "<h1>" in response.text
        finally:
            server.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await server
