"""Residents CSV import in the admin console: the upload starts a background task in the
gateway, and the progress page follows it without JavaScript (an HTTP Refresh every few
seconds while it runs, which a link turns off), then shows the report of rejected rows."""

from __future__ import annotations

from typing import Any, Final

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from gateway.campaigns.models import Role
from gateway.residents.service import ResidentService
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page
from web.i18n import N_

# The app's 64 KiB body limit is raised for this one path (web/app.py): a town's export is
# about 100 bytes a resident, so 16 MiB holds 150,000 residents.
MAX_UPLOAD_BYTES: Final = 16 * 1024 * 1024
PATH: Final = "/admin/residents/import"
REFRESH_S: Final = 2
IMPORT_ERRORS: Final[dict[str, str]] = {
    "file": N_("Choisissez un fichier CSV de résidents."),
    "empty": N_("Le fichier est vide."),
    "too_large": N_("Le fichier dépasse 16 Mo."),
}
REASONS: Final[dict[str, str]] = {
    "name": N_("nom et prénom vides"),
    "last_name": N_("nom trop long"),
    "first_name": N_("prénom trop long"),
    "language": N_("langue inconnue (fr ou en)"),
    "street_missing": N_("rue manquante"),
    "street_unknown": N_("rue absente de la liste des rues de la ville"),
    "phone_missing": N_("aucun numéro de téléphone"),
    "phone": N_("numéro de téléphone invalide, étranger, sans frais ou surtaxé"),
    "phone_type": N_("type de numéro inconnu (voice, sms ou both)"),
    "verified": N_("valeur de vérification illisible (yes ou no)"),
    "consent": N_("consentement illisible (yes ou no)"),
    "active": N_("valeur « active » illisible (yes ou no)"),
    "postal_code": N_("code postal invalide"),
    "civic_number": N_("numéro civique invalide"),
    "apartment": N_("appartement trop long"),
    "city": N_("ville trop longue"),
    "email": N_("adresse courriel invalide"),
    "too_long": N_("valeur trop longue"),
    "columns": N_("trop de colonnes"),
    "unreadable": N_("ligne illisible"),
    "too_many": N_("trop de lignes"),
    "registered": N_("numéro déjà inscrit"),
    "in_file": N_("même numéro qu'une ligne précédente"),
}
STATES: Final[dict[str, str]] = {
    "running": N_("en cours"),
    "done": N_("terminée"),
    "failed": N_("échouée"),
    "interrupted": N_("interrompue"),
}


@admin_page(role=Role.ADMIN)
async def import_form(visit: AdminVisit) -> Response:
    """The upload form, the column format, and the latest imports."""
    return await _form(visit)


@admin_page(role=Role.ADMIN, files=1)
async def start_import(visit: AdminVisit) -> Response:
    """Start the import in the background and go to its progress page."""
    upload = visit.form.get("file") if visit.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _form(visit, {"file": "file"}, 400)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return await _form(visit, {"file": "too_large"}, 413)
    if not data.strip():
        return await _form(visit, {"file": "empty"}, 400)
    import_id = await _service(visit).imports.start(data, upload.filename, visit.current.username)
    await visit.service.audit.record(
        "residents.import",
        admin=visit.current,
        detail=f"#{import_id} {upload.filename} ({len(data)} bytes)",
        client=visit.client,
    )
    return visit.redirect(f"{PATH}/{import_id}")


@admin_page(role=Role.ADMIN)
async def progress(visit: AdminVisit) -> Response:
    """Counters while it runs (refreshing itself), the report of rejected rows once done."""
    import_id = int(visit.request.path_params["import_id"])
    imports = _service(visit).imports
    status = await imports.get(import_id)
    if status is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    running = status.state == "running"
    auto = visit.request.query_params.get("auto") != "0"
    context: dict[str, Any] = {
        "status": status,
        "issues": [] if running else await imports.issues(import_id),
        "reasons": REASONS,
        "states": STATES,
        "running": running,
        "auto": auto,
        "refresh_s": REFRESH_S,
        "clock": clock,
    }
    response = visit.render("admin/import.html", context)
    if running and auto:
        # The HTTP Refresh header: no JavaScript needed; ?auto=0 turns it off (WCAG 2.2.1).
        response.headers["refresh"] = str(REFRESH_S)
    return response


async def _form(
    visit: AdminVisit, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "recent": await _service(visit).imports.recent(),
        "states": STATES,
        "import_errors": errors or {},
        "messages": IMPORT_ERRORS,
        "clock": clock,
    }
    return visit.render("admin/import_form.html", context, status)


def _service(visit: AdminVisit) -> ResidentService:
    service: ResidentService = visit.request.app.state.residents
    return service


ROUTES: Final = [
    Route("/residents/import", import_form, methods=["GET"]),
    Route("/residents/import", start_import, methods=["POST"]),
    Route("/residents/import/{import_id:int}", progress, methods=["GET"]),
]
