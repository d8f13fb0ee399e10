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
    "token_revoked": N_("Le jeton est révoqué : il ne fonctionne plus."),
}

REJECT_REASONS: Final[dict[str, str]] = {
    "header": N_("la première ligne doit nommer les colonnes name et zone"),
    "columns": N_("colonnes manquantes"),
    "name": N_("nom de rue vide ou trop long"),
    "duplicate": N_("rue en double dans le fichier"),
    "too_many": N_("trop de lignes"),
}
