"""Developer tool: extract msgids, merge them into the .po catalogs, compile the .mo files.

`python -m web.i18n_tool` after editing a template or an N_() string; then translate the new
entries of web/locales/en/LC_MESSAGES/messages.po and run it again. Babel is a dev dependency:
the running app only reads the compiled .mo files (web/i18n.py).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from web.i18n import DOMAIN, LANGUAGES, LOCALES

# Where msgids come from: templates call _(), Python code marks strings with N_().
METHOD_MAP = [("templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS: dict[str, None] = {"_": None, "N_": None}
_WEB = Path(__file__).parent


def extract() -> Catalog:
    """Every msgid of the templates and of web/*.py, with where it appears."""
    template = Catalog(project="tocsin", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(_WEB), METHOD_MAP, keywords=KEYWORDS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def update_catalogs() -> None:
    """Extract, merge and compile (a developer tool; Babel is a dev dependency)."""
    template = extract()
    for language in LANGUAGES:
        po_path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        if po_path.exists():
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="tocsin")
        catalog.update(template, no_fuzzy_matching=True)
        with po_path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
        with po_path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


if __name__ == "__main__":
    update_catalogs()
