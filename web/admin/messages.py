"""Error and notice texts of the admin pages (msgids; templates translate them when shown)."""

from __future__ import annotations

from typing import Final

from web.i18n import N_

ADMIN_ERRORS: Final[dict[str, str]] = {
    "login": N_("Nom d'utilisateur ou mot de passe incorrect."),
    "title": N_("Entrez un titre (120 caractères au plus)."),
    "body": N_("Entrez le texte du message (1000 caractères au plus)."),
    "zones": N_("Choisissez au moins un secteur."),
    "streets": N_("Choisissez au moins une rue."),
    "range": N_(
        "Choisissez une rue et une plage de numéros civiques (du plus petit au plus grand)."
    ),
    "target": N_("Choisissez à qui envoyer l'alerte."),
    "channels": N_("Choisissez le mode d'envoi."),
    "severity": N_("Choisissez la gravité."),
    "nobody": N_("Cette alerte ne joindrait personne. Élargissez le ciblage."),
    "confirm": N_("Cochez la case pour confirmer l'envoi."),
    "csv": N_("Choisissez un fichier CSV avec les colonnes name et zone."),
    "totp_wrong": N_(
        "Ce code n'est pas le bon (ou a déjà servi). Entrez le code affiché maintenant."
    ),
    "totp_locked": N_(
        "Trop de codes erronés : ce compte n'accepte plus de code pendant un moment. Réessayez"
        " plus tard."
    ),
    "send_at": N_("Choisissez une date et une heure d'envoi à venir."),
    "send_at_format": N_("Entrez la date et l'heure d'envoi sous la forme AAAA-MM-JJ HH:MM."),
    "template_name": N_("Donnez un nom au modèle (80 caractères au plus)."),
}

ADMIN_NOTICES: Final[dict[str, str]] = {
    "signed_out": N_("Vous êtes déconnecté."),
    "sent": N_("L'alerte est en cours d'envoi."),
    "paused": N_("L'alerte est en pause : les messages en attente sont retenus."),
    "resumed": N_("L'envoi de l'alerte a repris."),
    "cancelled": N_("L'alerte est annulée : plus rien ne sera envoyé."),
    "state": N_("Cette action n'est pas possible dans l'état actuel de l'alerte."),
    "imported": N_("La liste des rues a été importée."),
    "totp_on": N_("La double vérification est activée."),
    "totp_off": N_("La double vérification est désactivée."),
    "scheduled": N_("L'alerte est programmée."),
    "scheduled_cancelled": N_("L'alerte programmée est annulée."),
    "scheduled_gone": N_("Trop tard : l'alerte programmée est déjà partie ou a été annulée."),
    "template_saved": N_("Le modèle est enregistré."),
    "template_deleted": N_("Le modèle est supprimé."),
}

REJECT_REASONS: Final[dict[str, str]] = {
    "header": N_("la première ligne doit nommer les colonnes name et zone"),
    "columns": N_("colonnes manquantes"),
    "name": N_("nom de rue vide ou trop long"),
    "duplicate": N_("rue en double dans le fichier"),
    "too_many": N_("trop de lignes"),
}
