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
    "token_name": N_("Entrez le nom du système qui utilisera le jeton (64 caractères au plus)."),
    "token_role": N_("Choisissez le rôle du jeton."),
    "token_taken": N_("Un jeton actif porte déjà ce nom : révoquez-le ou choisissez-en un autre."),
}

ADMIN_NOTICES: Final[dict[str, str]] = {
    "signed_out": N_("Vous êtes déconnecté."),
    "sent": N_("L'alerte est en cours d'envoi."),
    "paused": N_("L'alerte est en pause : les messages en attente sont retenus."),
    "resumed": N_("L'envoi de l'alerte a repris."),
    "cancelled": N_("L'alerte est annulée : plus rien ne sera envoyé."),
    "state": N_("Cette action n'est pas possible dans l'état actuel de l'alerte."),
    "imported": N_("La liste des rues a été importée."),
    "balance_checked": N_("Le solde a été demandé à l'opérateur."),
    "totp_on": N_("La double vérification est activée."),
    "totp_off": N_("La double vérification est désactivée."),
    "scheduled": N_("L'alerte est programmée."),
    "scheduled_cancelled": N_("L'alerte programmée est annulée."),
    "scheduled_gone": N_("Trop tard : l'alerte programmée est déjà partie ou a été annulée."),
    "template_saved": N_("Le modèle est enregistré."),
    "template_deleted": N_("Le modèle est supprimé."),
    "token_revoked": N_("Le jeton est révoqué : il ne fonctionne plus."),
}

REJECT_REASONS: Final[dict[str, str]] = {
    "header": N_("la première ligne doit nommer les colonnes name et zone"),
    "columns": N_("colonnes manquantes"),
    "name": N_("nom de rue vide ou trop long"),
    "duplicate": N_("rue en double dans le fichier"),
    "too_many": N_("trop de lignes"),
}

# The health page and the alarm banner.
ALARM_KINDS: Final[dict[str, str]] = {
    "modem_down": N_("Modem hors service"),
    "credit_low": N_("Crédit bas"),
    "queue_stuck": N_("File d'envoi bloquée"),
    "disk_low": N_("Disque presque plein"),
    "event": N_("Alarme"),
}

MODEM_STATES: Final[dict[str, str]] = {
    "down": N_("hors service"),
    "ready": N_("prêt"),
    "busy": N_("occupé"),
    "degraded": N_("dégradé (pas de réseau)"),
    "blocked": N_("retiré de la rotation"),
}

REGISTRATIONS: Final[dict[str, str]] = {
    "home": N_("réseau local"),
    "roaming": N_("itinérance"),
    "searching": N_("recherche du réseau"),
    "denied": N_("refusé"),
    "not registered": N_("non inscrit"),
    "unknown": N_("inconnu"),
}

MESSAGE_CLASSES: Final[dict[str, str]] = {
    "otp": N_("Codes d'accès"),
    "relay": N_("Alertes de voisins"),
    "reply": N_("Réponses et avis"),
    "alert": N_("Alertes municipales"),
    "api": N_("API"),
}
