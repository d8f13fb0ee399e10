"""The error and notice texts handlers choose (msgids; pages translate them when shown)."""

from __future__ import annotations

from typing import Final

from web.i18n import N_

ERRORS: Final[dict[str, str]] = {
    "invalid_number": N_(
        "Ce numéro de téléphone n'est pas valide. Entrez un numéro à 10 chiffres, "
        "par exemple 450 555-0123."
    ),
    "channel": N_("Choisissez le mode de confirmation : SMS (texto) ou téléphone."),
    "captcha": N_("La vérification « Je ne suis pas un robot » a échoué. Réessayez."),
    "terms": N_("Vous devez accepter les conditions pour vous inscrire."),
    "bad_code": N_(
        "Ce code n'est pas valide ou a expiré. Vérifiez-le, ou demandez un nouveau code."
    ),
    "too_short": N_("Le mot de passe doit contenir au moins 8 caractères."),
    "too_long": N_("Le mot de passe doit contenir au plus 128 caractères."),
    "common": N_("Ce mot de passe est trop courant. Choisissez-en un autre."),
    "login": N_("Numéro de téléphone ou mot de passe incorrect."),
    "locked": N_(
        "Trop de tentatives de connexion. Attendez quelques minutes avant de réessayer, "
        "ou utilisez « Mot de passe oublié? »."
    ),
    "wrong_password": N_("Le mot de passe actuel est incorrect."),
    "duplicate_contact": N_("Ce numéro est déjà dans vos coordonnées pour ce type."),
    "last_name": N_("Entrez votre nom."),
    "first_name": N_("Entrez votre prénom."),
    "civic_number": N_(
        "Entrez un numéro civique valide (chiffres, suivis d'une lettre au besoin)."
    ),
    "postal_code": N_("Entrez un code postal valide, par exemple J6W 1T6."),
    "email": N_("Entrez une adresse courriel valide, ou laissez le champ vide."),
    "street": N_("Choisissez une rue dans la liste."),
    "language": N_("Choisissez une langue."),
    "city": N_("Le nom de la ville est trop long."),
    "apartment": N_("Le numéro d'appartement est trop long."),
    "confirm": N_("Cochez la case pour confirmer."),
}

NOTICES: Final[dict[str, str]] = {
    "code_sent": N_(
        "Si ce numéro peut recevoir un code, il le recevra dans les secondes qui suivent. "
        "Le code est valide 10 minutes."
    ),
    "registered": N_("Votre compte a été créé."),
    "password_changed": N_("Votre mot de passe a été modifié."),
    "password_chosen": N_(
        "Votre mot de passe est enregistré. Utilisez-le à la prochaine connexion."
    ),
    "password_reset": N_("Votre mot de passe a été modifié. Connectez-vous avec le nouveau."),
    "profile_saved": N_("Votre profil a été enregistré."),
    "contact_added": N_("Le numéro a été ajouté à vos coordonnées."),
    "contact_code_sent": N_("Un code a été envoyé à ce numéro. Entrez-le pour le confirmer."),
    "contact_verified": N_("Le numéro est confirmé et actif."),
    "contact_saved": N_("Les coordonnées ont été enregistrées."),
    "contact_deleted": N_("Le numéro a été retiré de vos coordonnées."),
    "logged_out": N_("Vous êtes déconnecté."),
    "account_deleted": N_("Votre compte et tous vos numéros ont été supprimés."),
    "session_needed": N_("Votre session a expiré. Recommencez."),
}
