//! The admin UI in English and French: one table of strings (templates read them as
//! `t.key`) and the choice of language for a request: `?lang=`, then the `lb_lang`
//! cookie, then `Accept-Language`, then English.
//!
//! Adding a string: one line in [`STRINGS`] — `("key", "English", "Français")` —
//! then `{{ t.key }}` in a template or [`text`] in Rust.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::HttpRequest;

use crate::lang::Translations;

/// The admin UI's languages are litebase's mail languages.
pub use crate::mail::Lang;

/// The cookie remembering a language picked with `?lang=`.
pub const LANG_COOKIE: &str = "lb_lang";

/// (key, English, French).
const STRINGS: &[(&str, &str, &str)] = &[
    ("oauth2", "OAuth2", "OAuth2"),
    (
        "oauth2_help",
        "Sign-in with Google, GitHub, an OpenID Connect server… Register this app with the provider, with the redirect URL <your app URL>/api/oauth2-redirect, and enter its client id and secret. Secrets are never shown again: leave one empty to keep it.",
        "Connexion avec Google, GitHub, un serveur OpenID Connect… Déclarez cette application chez le fournisseur, avec l'URL de redirection <URL de l'app>/api/oauth2-redirect, puis saisissez son identifiant et son secret client. Les secrets ne sont plus jamais affichés : laissez-en un vide pour le garder.",
    ),
    (
        "oauth2_enabled",
        "Allow OAuth2 sign-in",
        "Autoriser la connexion OAuth2",
    ),
    ("oauth2_provider", "Provider", "Fournisseur"),
    ("oauth2_client_id", "Client id", "Identifiant client"),
    ("oauth2_client_secret", "Client secret", "Secret client"),
    (
        "oauth2_secret_kept",
        "(saved; leave empty to keep)",
        "(enregistré ; laisser vide pour le garder)",
    ),
    ("oauth2_remove", "Remove provider", "Retirer le fournisseur"),
    ("oauth2_display_name", "Display name", "Nom affiché"),
    (
        "oauth2_pkce_default",
        "Provider default",
        "Par défaut du fournisseur",
    ),
    ("oauth2_on", "On", "Activé"),
    ("oauth2_off", "Off", "Désactivé"),
    ("oauth2_auth_url", "Authorization URL", "URL d'autorisation"),
    ("oauth2_token_url", "Token URL", "URL du jeton"),
    (
        "oauth2_userinfo_url",
        "User info URL",
        "URL des infos utilisateur",
    ),
    (
        "oauth2_default_url",
        "(provider default)",
        "(par défaut du fournisseur)",
    ),
    (
        "oauth2_extra",
        "Extra options (JSON)",
        "Options supplémentaires (JSON)",
    ),
    ("oauth2_add", "Add provider", "Ajouter un fournisseur"),
    (
        "oauth2_mapped",
        "Fields filled on sign-up",
        "Champs remplis à l'inscription",
    ),
    (
        "oauth2_map_id",
        "Provider user id →",
        "Id chez le fournisseur →",
    ),
    ("oauth2_map_name", "Name →", "Nom →"),
    ("oauth2_map_username", "Username →", "Nom d'utilisateur →"),
    ("oauth2_map_avatar", "Avatar URL →", "URL de l'avatar →"),
    ("admin", "Admin", "Administration"),
    ("skip_link", "Skip to content", "Aller au contenu"),
    ("menu", "Menu", "Menu"),
    ("language", "Language", "Langue"),
    (
        "theme_toggle",
        "Toggle dark mode",
        "Basculer le mode sombre",
    ),
    ("logout", "Log out", "Se déconnecter"),
    ("dashboard", "Dashboard", "Tableau de bord"),
    ("collections", "Collections", "Collections"),
    ("system_collections", "System", "Système"),
    (
        "no_collections",
        "No collections yet.",
        "Aucune collection pour l'instant.",
    ),
    ("operations", "Operations", "Exploitation"),
    ("logs", "Logs", "Journaux"),
    ("settings", "Settings", "Paramètres"),
    ("backups", "Backups", "Sauvegardes"),
    ("superusers", "Superusers", "Superutilisateurs"),
    ("records", "Records", "Enregistrements"),
    ("collection", "Collection", "Collection"),
    ("type", "Type", "Type"),
    ("signed_in_as", "Signed in as", "Connecté en tant que"),
    (
        "dashboard_intro",
        "Your collections and how many records each holds.",
        "Vos collections et le nombre d'enregistrements de chacune.",
    ),
    ("login", "Sign in", "Connexion"),
    ("account", "My account", "Mon compte"),
    (
        "totp_title",
        "Authenticator app",
        "Application d'authentification",
    ),
    (
        "totp_help",
        "An authenticator app (a TOTP code that changes every 30 seconds) is a second factor for signing in.",
        "Une application d'authentification (un code TOTP qui change toutes les 30 secondes) sert de second facteur de connexion.",
    ),
    (
        "mfa_superusers",
        "Multi-factor auth for superusers",
        "Authentification multifacteur des superutilisateurs",
    ),
    (
        "mfa_superusers_on",
        "On: every superuser signs in with a second factor after the password (an authenticator app, a passkey, or an emailed code when OTP is on).",
        "Activée : chaque superutilisateur se connecte avec un second facteur après le mot de passe (application d'authentification, clé d'accès, ou code par e-mail si l'OTP est activé).",
    ),
    (
        "mfa_superusers_off",
        "Off: a password alone signs superusers in. Add an authenticator app or a passkey below first, then turn it on.",
        "Désactivée : un mot de passe suffit aux superutilisateurs. Ajoutez d'abord une application d'authentification ou une clé d'accès ci-dessous, puis activez-la.",
    ),
    (
        "mfa_turn_on",
        "Require a second factor",
        "Exiger un second facteur",
    ),
    (
        "mfa_turn_off",
        "Stop requiring a second factor",
        "Ne plus exiger de second facteur",
    ),
    (
        "mfa_needs_factor",
        "Add an authenticator app or a passkey to your account first, so that you can still sign in.",
        "Ajoutez d'abord une application d'authentification ou une clé d'accès à votre compte, pour pouvoir encore vous connecter.",
    ),
    (
        "totp_enabled",
        "Authenticator app on.",
        "Application d'authentification activée.",
    ),
    (
        "recovery_codes_help",
        "Keep these recovery codes somewhere safe: each signs you in once if you lose the app. They are shown only now.",
        "Gardez ces codes de secours en lieu sûr : chacun permet une connexion si vous perdez l'application. Ils ne sont affichés qu'une fois.",
    ),
    (
        "recovery_codes_left",
        "Recovery codes left",
        "Codes de secours restants",
    ),
    (
        "totp_setup",
        "Set up an authenticator app",
        "Configurer une application d'authentification",
    ),
    (
        "totp_scan",
        "Scan this QR code with your authenticator app (or type the secret), then enter the code it shows.",
        "Scannez ce code QR avec votre application d'authentification (ou saisissez le secret), puis entrez le code affiché.",
    ),
    ("totp_secret", "Secret", "Secret"),
    ("totp_confirm", "Turn on", "Activer"),
    (
        "totp_remove",
        "Remove the authenticator app",
        "Retirer l'application d'authentification",
    ),
    (
        "totp_already_on",
        "An authenticator app is already set up; remove it first.",
        "Une application d'authentification est déjà configurée ; retirez-la d'abord.",
    ),
    ("mfa_title", "Second step", "Seconde étape"),
    ("mfa_code", "Code", "Code"),
    (
        "mfa_help_app",
        "Enter the code of your authenticator app, or one of your recovery codes.",
        "Entrez le code de votre application d'authentification, ou l'un de vos codes de secours.",
    ),
    (
        "mfa_help_passkey",
        "Confirm with your passkey.",
        "Confirmez avec votre clé d'accès.",
    ),
    (
        "mfa_help_mail",
        "We sent a one-time code to your email address: enter it here.",
        "Nous avons envoyé un code à usage unique à votre adresse e-mail : saisissez-le ici.",
    ),
    (
        "mfa_no_factor",
        "Multi-factor auth is on for superusers, but this account has no second factor: turn on email codes (OTP) for _superusers through the API, or ask another superuser to turn MFA off.",
        "L'authentification multifacteur est activée pour les superutilisateurs, mais ce compte n'a pas de second facteur : activez les codes par e-mail (OTP) pour _superusers via l'API, ou demandez à un autre superutilisateur de désactiver la MFA.",
    ),
    (
        "mfa_expired",
        "This sign-in expired; start again with your password.",
        "Cette connexion a expiré ; recommencez avec votre mot de passe.",
    ),
    (
        "mfa_bad_code",
        "Wrong or expired code.",
        "Code incorrect ou expiré.",
    ),
    ("passkeys_title", "Passkeys", "Clés d'accès"),
    (
        "passkeys_help",
        "A passkey signs you in with this device's screen lock or a security key, without a password; it also serves as a second factor.",
        "Une clé d'accès vous connecte avec le verrouillage d'écran de cet appareil ou une clé de sécurité, sans mot de passe ; elle sert aussi de second facteur.",
    ),
    (
        "passkey_name",
        "Name of the new passkey",
        "Nom de la nouvelle clé",
    ),
    (
        "passkey_name_hint",
        "Laptop, phone…",
        "Ordinateur, téléphone…",
    ),
    ("passkey_add", "Add a passkey", "Ajouter une clé d'accès"),
    (
        "passkey_sign_in",
        "Sign in with a passkey",
        "Se connecter avec une clé d'accès",
    ),
    ("passkey_use", "Use a passkey", "Utiliser une clé d'accès"),
    (
        "passkey_then_password",
        "Passkey accepted; multi-factor auth is on, so enter your password too.",
        "Clé acceptée ; l'authentification multifacteur est activée, saisissez aussi votre mot de passe.",
    ),
    (
        "login_title",
        "Sign in as a superuser",
        "Connexion superutilisateur",
    ),
    ("email", "Email", "E-mail"),
    ("password", "Password", "Mot de passe"),
    (
        "password_confirm",
        "Confirm password",
        "Confirmer le mot de passe",
    ),
    ("new_password", "New password", "Nouveau mot de passe"),
    (
        "bad_credentials",
        "Wrong email or password.",
        "E-mail ou mot de passe incorrect.",
    ),
    (
        "too_many_attempts",
        "Too many attempts from your address; wait a minute and try again.",
        "Trop de tentatives depuis votre adresse ; attendez une minute et réessayez.",
    ),
    (
        "no_superuser_title",
        "No superuser yet",
        "Aucun superutilisateur",
    ),
    (
        "no_superuser_help",
        "Open the one-time setup link that `serve` printed when it started, or create one from the command line:",
        "Ouvrez le lien de configuration à usage unique affiché par `serve` au démarrage, ou créez-en un en ligne de commande :",
    ),
    (
        "setup_title",
        "Create the first superuser",
        "Créer le premier superutilisateur",
    ),
    (
        "setup_intro",
        "This link works once. The account you create here can manage everything.",
        "Ce lien ne sert qu'une fois. Le compte créé ici peut tout gérer.",
    ),
    (
        "setup_submit",
        "Create and sign in",
        "Créer et se connecter",
    ),
    (
        "setup_dead_title",
        "This setup link is no longer valid",
        "Ce lien de configuration n'est plus valable",
    ),
    (
        "setup_dead_help",
        "A setup link works once, for one hour, and only while no superuser exists. Sign in instead, or create a superuser from the command line:",
        "Un lien de configuration ne sert qu'une fois, pendant une heure, et seulement tant qu'aucun superutilisateur n'existe. Connectez-vous, ou créez un superutilisateur en ligne de commande :",
    ),
    (
        "passwords_differ",
        "The passwords do not match.",
        "Les mots de passe ne correspondent pas.",
    ),
    ("create", "Create", "Créer"),
    ("save", "Save", "Enregistrer"),
    ("delete", "Delete", "Supprimer"),
    ("cancel", "Cancel", "Annuler"),
    ("actions", "Actions", "Actions"),
    ("created", "Created", "Créé"),
    ("you", "you", "vous"),
    ("new_superuser", "New superuser", "Nouveau superutilisateur"),
    (
        "change_password",
        "Change password",
        "Changer le mot de passe",
    ),
    (
        "confirm_delete",
        "Delete this superuser? This cannot be undone.",
        "Supprimer ce superutilisateur ? C'est irréversible.",
    ),
    ("confirm_delete_button", "Yes, delete", "Oui, supprimer"),
    (
        "cannot_delete_self",
        "You cannot delete your own account; sign in as another superuser to do it.",
        "Vous ne pouvez pas supprimer votre propre compte ; connectez-vous avec un autre superutilisateur pour le faire.",
    ),
    (
        "cannot_delete_last",
        "The last superuser cannot be deleted; create another one first.",
        "Le dernier superutilisateur ne peut pas être supprimé ; créez-en d'abord un autre.",
    ),
    (
        "superuser_created",
        "Superuser created.",
        "Superutilisateur créé.",
    ),
    (
        "superuser_deleted",
        "Superuser deleted.",
        "Superutilisateur supprimé.",
    ),
    (
        "password_changed",
        "Password changed.",
        "Mot de passe modifié.",
    ),
    (
        "fix_errors",
        "Please fix the fields marked below.",
        "Corrigez les champs signalés ci-dessous.",
    ),
    ("not_found_title", "Page not found", "Page introuvable"),
    (
        "not_found_help",
        "There is nothing at this address in the admin UI.",
        "Il n'y a rien à cette adresse dans l'administration.",
    ),
    (
        "back_to_dashboard",
        "Back to the dashboard",
        "Retour au tableau de bord",
    ),
    ("close", "Close", "Fermer"),
    // Operations: settings, logs, backups (opsui).
    (
        "settings_intro",
        "Changes apply at once, without a restart.",
        "Les changements s'appliquent aussitôt, sans redémarrage.",
    ),
    (
        "settings_sections",
        "Settings sections",
        "Sections des paramètres",
    ),
    ("settings_application", "Application", "Application"),
    ("settings_mail", "Mail", "Courrier"),
    ("settings_rate_limits", "Rate limits", "Limites de débit"),
    ("settings_logs", "Request logs", "Journaux des requêtes"),
    (
        "settings_trusted_proxy",
        "Trusted proxy",
        "Proxy de confiance",
    ),
    (
        "trusted_proxy_intro",
        "Behind a reverse proxy (nginx, Caddy, a load balancer), the client's address is read from a header the proxy sets, for rate limits, logs and realtime. Headers are only believed from these peers (--trusted-proxies):",
        "Derrière un proxy inverse (nginx, Caddy, un répartiteur de charge), l'adresse du client est lue dans un en-tête posé par le proxy, pour les limites de débit, les journaux et le temps réel. Les en-têtes ne sont crus que de ces pairs (--trusted-proxies) :",
    ),
    (
        "trusted_proxy_no_peer",
        "none: headers are always ignored",
        "aucun : les en-têtes sont toujours ignorés",
    ),
    (
        "trusted_proxy_headers",
        "Client address headers",
        "En-têtes d'adresse du client",
    ),
    (
        "trusted_proxy_headers_hint",
        "Comma-separated, the first that holds an address wins, e.g. X-Forwarded-For or X-Real-IP. Empty: the connection's own address.",
        "Séparés par des virgules ; le premier qui contient une adresse l'emporte, p. ex. X-Forwarded-For ou X-Real-IP. Vide : l'adresse de la connexion.",
    ),
    (
        "trusted_proxy_leftmost",
        "Use the leftmost address of X-Forwarded-For",
        "Prendre l'adresse la plus à gauche de X-Forwarded-For",
    ),
    (
        "trusted_proxy_leftmost_hint",
        "Off: the rightmost, the one your proxy added. Turn on only if your proxy replaces the header, since the leftmost is whatever the client sent.",
        "Désactivé : la plus à droite, celle ajoutée par votre proxy. N'activez que si votre proxy remplace l'en-tête, car la plus à gauche est ce que le client a envoyé.",
    ),
    (
        "trusted_proxy_seen",
        "Your address, as the server sees this request:",
        "Votre adresse, telle que le serveur voit cette requête :",
    ),
    (
        "settings_apps",
        "App settings",
        "Paramètres de l'application",
    ),
    (
        "settings_apps_intro",
        "Settings the application declares for itself.",
        "Paramètres déclarés par l'application elle-même.",
    ),
    (
        "settings_saved",
        "Settings saved.",
        "Paramètres enregistrés.",
    ),
    ("app_name", "Application name", "Nom de l'application"),
    ("app_url", "Application URL", "URL de l'application"),
    (
        "app_url_hint",
        "The public address, the root of links in mails.",
        "L'adresse publique, racine des liens dans les e-mails.",
    ),
    ("sender_name", "Sender name", "Nom de l'expéditeur"),
    (
        "sender_address",
        "Sender address",
        "Adresse de l'expéditeur",
    ),
    (
        "smtp_enabled",
        "Send mails through an SMTP server",
        "Envoyer les e-mails par un serveur SMTP",
    ),
    (
        "smtp_off_hint",
        "When off, mails are written to the server log instead.",
        "Désactivé, les e-mails sont écrits dans le journal du serveur.",
    ),
    ("smtp_host", "SMTP host", "Hôte SMTP"),
    ("smtp_port", "Port", "Port"),
    ("smtp_security", "Encryption", "Chiffrement"),
    ("smtp_security_none", "None", "Aucun"),
    ("smtp_security_tls", "TLS (implicit)", "TLS (implicite)"),
    ("smtp_username", "Username", "Nom d'utilisateur"),
    ("smtp_password", "SMTP password", "Mot de passe SMTP"),
    (
        "smtp_password_hint",
        "Leave blank to keep the saved password.",
        "Laissez vide pour garder le mot de passe enregistré.",
    ),
    ("test_mail", "Send a test mail", "Envoyer un e-mail de test"),
    (
        "test_mail_intro_smtp",
        "Sent through the SMTP server saved above; its answer is shown here.",
        "Envoyé par le serveur SMTP enregistré ci-dessus ; sa réponse s'affiche ici.",
    ),
    (
        "test_mail_intro_log",
        "SMTP is off: the test mail will be written to the server log.",
        "SMTP est désactivé : l'e-mail de test sera écrit dans le journal du serveur.",
    ),
    ("test_mail_to", "Send to", "Destinataire"),
    ("test_mail_template", "Template", "Modèle"),
    (
        "send_test_mail",
        "Send test mail",
        "Envoyer l'e-mail de test",
    ),
    (
        "test_mail_sent",
        "Test mail sent to {email}.",
        "E-mail de test envoyé à {email}.",
    ),
    (
        "test_mail_logged",
        "SMTP is off, so the test mail to {email} was written to the server log.",
        "SMTP est désactivé : l'e-mail de test pour {email} a été écrit dans le journal du serveur.",
    ),
    ("mail_tpl_verification", "Verification", "Vérification"),
    (
        "mail_tpl_password_reset",
        "Password reset",
        "Réinitialisation du mot de passe",
    ),
    (
        "mail_tpl_email_change",
        "Email change",
        "Changement d'e-mail",
    ),
    ("mail_tpl_otp", "One-time code", "Code à usage unique"),
    ("mail_tpl_login_alert", "Login alert", "Alerte de connexion"),
    (
        "rate_limits_enabled",
        "Limit requests to the auth endpoints",
        "Limiter les requêtes d'authentification",
    ),
    (
        "auth_per_minute",
        "Auth attempts per minute",
        "Tentatives par minute",
    ),
    (
        "auth_per_minute_hint",
        "Per IP address and auth endpoint.",
        "Par adresse IP et par point d'authentification.",
    ),
    (
        "logs_max_days",
        "Keep logs for (days)",
        "Conserver les journaux (jours)",
    ),
    (
        "logs_max_days_hint",
        "0 turns request logging off.",
        "0 désactive la journalisation des requêtes.",
    ),
    (
        "logs_log_ip",
        "Record the client's IP address",
        "Enregistrer l'adresse IP du client",
    ),
    (
        "whole_number_needed",
        "Enter a whole number.",
        "Saisissez un nombre entier.",
    ),
    ("ops_between", "Between", "Entre"),
    (
        "logs_where",
        "Kept in a separate SQLite file:",
        "Conservés dans un fichier SQLite à part :",
    ),
    ("logs_retention", "retention", "conservation"),
    ("ops_days", "days", "jours"),
    (
        "logs_off",
        "request logging is off",
        "la journalisation des requêtes est désactivée",
    ),
    (
        "logs_per_hour",
        "Requests per hour, last 24 hours",
        "Requêtes par heure, dernières 24 heures",
    ),
    ("ops_filter", "Filter", "Filtre"),
    ("ops_apply_filter", "Filter", "Filtrer"),
    (
        "logs_filter_hint",
        "PocketBase syntax on method, url, status, execTime, userIP, remoteIP, auth, userAgent, error, created.",
        "Syntaxe PocketBase sur method, url, status, execTime, userIP, remoteIP, auth, userAgent, error, created.",
    ),
    ("ops_proxy_ip", "Through the proxy at", "Par le proxy en"),
    ("logs_quick", "Quick filters", "Filtres rapides"),
    ("logs_quick_all", "All", "Tout"),
    ("logs_quick_errors", "Errors only", "Erreurs seulement"),
    (
        "logs_quick_server_errors",
        "Server errors",
        "Erreurs serveur",
    ),
    ("logs_quick_slow", "Slow (≥ 500 ms)", "Lentes (≥ 500 ms)"),
    ("logs_quick_superusers", "Superusers", "Superutilisateurs"),
    ("logs_entries", "entries", "entrées"),
    (
        "logs_fix_filter",
        "Fix the filter to see entries.",
        "Corrigez le filtre pour voir les entrées.",
    ),
    (
        "no_logs",
        "No request matches.",
        "Aucune requête ne correspond.",
    ),
    ("ops_time", "Time", "Heure"),
    ("ops_method", "Method", "Méthode"),
    ("ops_status", "Status", "Statut"),
    ("ops_duration", "Duration", "Durée"),
    ("ops_auth_kind", "Auth", "Auth."),
    ("ops_pagination", "Pages", "Pages"),
    ("ops_previous", "Previous", "Précédent"),
    ("ops_next", "Next", "Suivant"),
    ("ops_page", "Page", "Page"),
    ("log_entry", "Request log entry", "Entrée du journal"),
    (
        "log_missing",
        "This entry is gone: it was pruned by the retention, or never existed.",
        "Cette entrée n'existe plus : supprimée par la conservation, ou jamais créée.",
    ),
    ("ops_user_agent", "User agent", "Agent utilisateur"),
    ("ops_referer", "Referer", "Référent"),
    ("ops_error", "Error", "Erreur"),
    (
        "backups_intro",
        "Copies of the database, made while the app keeps running.",
        "Copies de la base de données, faites sans arrêter l'application.",
    ),
    ("backup_create", "Create backup", "Créer une sauvegarde"),
    ("backup_name", "Name", "Nom"),
    (
        "backup_name_hint",
        "Optional: lowercase letters, digits, _ and -, ending in .db.",
        "Facultatif : minuscules, chiffres, _ et -, finissant par .db.",
    ),
    ("backups_s3", "Upload to a bucket", "Envoi vers un bucket"),
    (
        "backups_s3_hint",
        "Each scheduled backup is also uploaded to this S3-compatible bucket under its name; the ones no longer kept are removed from it too.",
        "Chaque sauvegarde planifiée est aussi envoyée dans ce bucket compatible S3 sous son nom ; celles qui ne sont plus gardées y sont aussi supprimées.",
    ),
    (
        "backups_s3_enabled",
        "Upload scheduled backups",
        "Envoyer les sauvegardes planifiées",
    ),
    (
        "backups_s3_secret_kept",
        "Leave empty to keep the saved secret",
        "Laisser vide pour garder le secret enregistré",
    ),
    // Outgoing webhooks.
    ("webhooks", "Webhooks", "Webhooks"),
    (
        "webhooks_intro",
        "Each committed change of a collection, POSTed as JSON to a URL of yours, signed, retried until it is received.",
        "Chaque modification validée d'une collection, envoyée en JSON (POST) à une URL de votre choix, signée, renvoyée jusqu'à réception.",
    ),
    ("webhook_url", "URL", "URL"),
    ("webhook_actions", "Changes sent", "Modifications envoyées"),
    ("webhook_secret", "Signing secret", "Secret de signature"),
    (
        "webhook_secret_hint",
        "At least 16 characters; left empty, a random one is made.",
        "Au moins 16 caractères ; vide, un secret aléatoire est créé.",
    ),
    ("webhook_enabled", "Enabled", "Activé"),
    ("webhook_on", "On", "Activé"),
    ("webhook_off", "Off", "Désactivé"),
    ("webhook_new", "New webhook", "Nouveau webhook"),
    ("webhook_add", "Add webhook", "Ajouter le webhook"),
    (
        "no_webhooks",
        "No webhooks yet.",
        "Aucun webhook pour l'instant.",
    ),
    ("webhook_saved", "Webhook saved.", "Webhook enregistré."),
    ("webhook_deleted", "Webhook deleted.", "Webhook supprimé."),
    (
        "webhook_retry",
        "Delivery queued again.",
        "Envoi remis en file.",
    ),
    (
        "webhook_receiving",
        "Checking a delivery",
        "Vérifier un envoi",
    ),
    (
        "webhook_receiving_intro",
        "Each request carries the time it was signed and an HMAC-SHA256 of that time and the body with the secret; compare it, and refuse old timestamps.",
        "Chaque requête porte l'heure de signature et un HMAC-SHA256 de cette heure et du corps avec le secret ; comparez-le et refusez les heures trop anciennes.",
    ),
    ("webhook_deliveries", "Deliveries", "Envois"),
    ("webhook_event", "Change", "Modification"),
    ("webhook_status", "Status", "État"),
    ("webhook_attempts", "Attempts", "Tentatives"),
    ("webhook_answer", "Last answer", "Dernière réponse"),
    ("webhook_delivered", "Delivered", "Reçu"),
    ("webhook_failed", "Failed", "Échec"),
    ("webhook_pending", "Pending", "En attente"),
    ("webhook_payload", "Body", "Corps"),
    ("webhook_send_again", "Send again", "Renvoyer"),
    (
        "no_deliveries",
        "Nothing sent yet.",
        "Rien d'envoyé pour l'instant.",
    ),
    ("backup_created", "Backup created.", "Sauvegarde créée."),
    ("backup_deleted", "Backup deleted.", "Sauvegarde supprimée."),
    (
        "backup_restored",
        "Backup restored: the data is now the backup's.",
        "Sauvegarde restaurée : les données sont celles de la sauvegarde.",
    ),
    (
        "backup_missing",
        "There is no such backup any more; reload the list.",
        "Cette sauvegarde n'existe plus ; rechargez la liste.",
    ),
    (
        "no_backups",
        "No backups yet.",
        "Aucune sauvegarde pour l'instant.",
    ),
    ("ops_size", "Size", "Taille"),
    ("ops_date", "Date", "Date"),
    ("ops_download", "Download", "Télécharger"),
    ("ops_restore", "Restore", "Restaurer"),
    (
        "restore_warning",
        "The current data will be replaced by this backup's: everything changed since it was made is lost. Connected players are disconnected and reconnect.",
        "Les données actuelles seront remplacées par celles de cette sauvegarde : tout ce qui a changé depuis est perdu. Les joueurs connectés sont déconnectés puis se reconnectent.",
    ),
    (
        "restore_confirm",
        "Yes, replace the data",
        "Oui, remplacer les données",
    ),
    (
        "backup_cli_title",
        "From the command line",
        "En ligne de commande",
    ),
    (
        "backup_cli_intro",
        "The same backups, from a shell on the server (restore needs the server stopped):",
        "Les mêmes sauvegardes, depuis un terminal sur le serveur (la restauration demande l'arrêt du serveur) :",
    ),
    // Crons (admin/crons.rs), scheduled backups, collections import/export.
    ("crons", "Crons", "Tâches planifiées"),
    (
        "crons_intro",
        "Jobs run on a schedule (UTC), one run at a time each. Last runs are those since the server started.",
        "Tâches lancées selon un calendrier (UTC), une exécution à la fois chacune. Les dernières exécutions sont celles depuis le démarrage du serveur.",
    ),
    ("cron_id", "Job", "Tâche"),
    ("cron_expression", "Schedule", "Calendrier"),
    ("cron_next", "Next run", "Prochaine exécution"),
    ("cron_last", "Last run", "Dernière exécution"),
    ("cron_run", "Run now", "Lancer maintenant"),
    ("cron_running", "Running…", "En cours…"),
    ("cron_never", "Not run yet", "Pas encore lancée"),
    ("cron_ok", "done", "terminée"),
    ("cron_failed", "failed", "échec"),
    ("no_crons", "No jobs.", "Aucune tâche."),
    ("cron_started", "Job started.", "Tâche lancée."),
    (
        "cron_still_running",
        "The job is still running: it was not started again.",
        "La tâche est encore en cours : elle n'a pas été relancée.",
    ),
    (
        "cron_missing",
        "There is no such job any more; reload the list.",
        "Cette tâche n'existe plus ; rechargez la liste.",
    ),
    (
        "settings_backups",
        "Scheduled backups",
        "Sauvegardes planifiées",
    ),
    (
        "backups_schedule_intro",
        "Backups made on a schedule (job __pbAutoBackup__), named @auto_lb_backup_…; older ones beyond the number kept are deleted. See also:",
        "Sauvegardes faites selon un calendrier (tâche __pbAutoBackup__), nommées @auto_lb_backup_… ; les plus anciennes au-delà du nombre gardé sont supprimées. Voir aussi :",
    ),
    (
        "backups_cron",
        "Schedule (cron, UTC)",
        "Calendrier (cron, UTC)",
    ),
    (
        "backups_cron_hint",
        "Five fields (minute hour day month weekday) or @daily, @weekly…; empty turns scheduled backups off.",
        "Cinq champs (minute heure jour mois jour-de-semaine) ou @daily, @weekly… ; vide désactive les sauvegardes planifiées.",
    ),
    ("backups_keep", "Backups kept", "Sauvegardes gardées"),
    (
        "backups_keep_hint",
        "The newest scheduled backups kept; backups made by hand are never deleted.",
        "Les sauvegardes planifiées les plus récentes gardées ; celles faites à la main ne sont jamais supprimées.",
    ),
    (
        "export_collections",
        "Export collections",
        "Exporter les collections",
    ),
    (
        "export_intro",
        "Every collection's definition as JSON, to import into another instance (litebase or PocketBase).",
        "La définition de chaque collection en JSON, à importer dans une autre instance (litebase ou PocketBase).",
    ),
    ("export_download", "Download JSON", "Télécharger le JSON"),
    (
        "import_collections",
        "Import collections",
        "Importer des collections",
    ),
    (
        "import_intro",
        "Paste or load an export: you review the changes before anything is applied. System collections are left as they are.",
        "Collez ou chargez un export : vous vérifiez les changements avant que rien ne soit appliqué. Les collections système restent telles quelles.",
    ),
    ("import_file", "JSON file", "Fichier JSON"),
    (
        "import_delete_missing",
        "Delete what the import does not list",
        "Supprimer ce que l'import ne liste pas",
    ),
    (
        "import_delete_missing_hint",
        "Collections and fields absent from the JSON are deleted with their data.",
        "Les collections et champs absents du JSON sont supprimés avec leurs données.",
    ),
    (
        "import_review",
        "Review changes",
        "Vérifier les changements",
    ),
    ("import_changes", "Changes", "Changements"),
    ("import_added", "new", "nouvelle"),
    ("import_changed", "changed", "modifiée"),
    ("import_deleted", "deleted", "supprimée"),
    (
        "import_no_change",
        "The import changes nothing: the collections are already like this.",
        "L'import ne change rien : les collections sont déjà ainsi.",
    ),
    (
        "import_delete_warning",
        "Deleted collections lose all their records.",
        "Les collections supprimées perdent tous leurs enregistrements.",
    ),
    ("import_confirm", "Apply the import", "Appliquer l'import"),
    (
        "collections_imported",
        "Collections imported.",
        "Collections importées.",
    ),
    // End of operations strings.
    // Records (admin/records.rs, templates/records/).
    ("records_count", "records", "enregistrements"),
    (
        "edit_collection",
        "Edit collection",
        "Modifier la collection",
    ),
    ("new_record", "New record", "Nouvel enregistrement"),
    ("edit_record", "Edit record", "Modifier l’enregistrement"),
    ("filter", "Filter", "Filtre"),
    (
        "filter_placeholder",
        "Filter, e.g. title ~ \"abc\" && count > 2",
        "Filtre, p. ex. title ~ \"abc\" && count > 2",
    ),
    ("apply_filter", "Apply", "Appliquer"),
    ("columns", "Columns", "Colonnes"),
    ("select", "Select", "Sélectionner"),
    (
        "no_records",
        "No records match.",
        "Aucun enregistrement ne correspond.",
    ),
    ("pagination", "Pages", "Pages"),
    ("page", "Page", "Page"),
    ("previous", "Previous", "Précédent"),
    ("next", "Next", "Suivant"),
    (
        "delete_selected",
        "Delete selected",
        "Supprimer la sélection",
    ),
    (
        "confirm_bulk_delete",
        "Delete every checked record? This cannot be undone.",
        "Supprimer tous les enregistrements cochés ? C’est irréversible.",
    ),
    (
        "bulk_none_selected",
        "Check at least one record to delete.",
        "Cochez au moins un enregistrement à supprimer.",
    ),
    (
        "bulk_nothing_deleted",
        "Nothing was deleted.",
        "Rien n’a été supprimé.",
    ),
    (
        "confirm_delete_record",
        "Delete this record? This cannot be undone.",
        "Supprimer cet enregistrement ? C’est irréversible.",
    ),
    ("record_created", "Record created.", "Enregistrement créé."),
    (
        "record_saved",
        "Record saved.",
        "Enregistrement sauvegardé.",
    ),
    (
        "record_deleted",
        "Record deleted.",
        "Enregistrement supprimé.",
    ),
    (
        "records_deleted",
        "Records deleted.",
        "Enregistrements supprimés.",
    ),
    (
        "files_add",
        "Add files (saved with the record)",
        "Ajouter des fichiers (enregistrés avec la fiche)",
    ),
    ("files_none", "No files.", "Aucun fichier."),
    ("json_valid", "Valid JSON", "JSON valide"),
    ("json_invalid", "Invalid JSON", "JSON invalide"),
    ("json_format", "Format", "Mettre en forme"),
    ("search_in", "Search in", "Rechercher dans"),
    (
        "search_results",
        "Matching records",
        "Enregistrements trouvés",
    ),
    (
        "no_matches",
        "No matching records.",
        "Aucun enregistrement trouvé.",
    ),
    ("none_chosen", "None chosen.", "Aucun choix."),
    ("remove", "Remove", "Retirer"),
    (
        "password_keep",
        "Leave empty to keep the current password.",
        "Laissez vide pour garder le mot de passe actuel.",
    ),
    // Collections editor (admin/collections.rs).
    ("new_collection", "New collection", "Nouvelle collection"),
    ("view_records", "View records", "Voir les enregistrements"),
    ("collection_name", "Name", "Nom"),
    ("type_base", "Base", "Base"),
    (
        "type_auth",
        "Auth (users who sign in)",
        "Auth (utilisateurs qui se connectent)",
    ),
    (
        "type_view",
        "View (read-only SQL query)",
        "Vue (requête SQL en lecture seule)",
    ),
    ("view_query", "View query", "Requête de la vue"),
    (
        "view_query_label",
        "SELECT statement (must select an id column)",
        "Instruction SELECT (doit sélectionner une colonne id)",
    ),
    ("fields", "Fields", "Champs"),
    (
        "fields_help",
        "Every collection has the built-in id field. Use the arrows to reorder fields.",
        "Chaque collection a le champ id intégré. Réordonnez les champs avec les flèches.",
    ),
    (
        "no_fields",
        "No fields yet: pick a type and add one.",
        "Aucun champ pour l'instant : choisissez un type et ajoutez-en un.",
    ),
    ("field_name", "Field name", "Nom du champ"),
    ("field_type", "Field type", "Type du champ"),
    ("required", "Required", "Obligatoire"),
    ("options", "Options", "Options"),
    ("move_up", "Move up", "Monter"),
    ("move_down", "Move down", "Descendre"),
    ("remove_field", "Remove field", "Retirer le champ"),
    ("new_field_type", "New field type", "Type du nouveau champ"),
    ("add_field", "Add field", "Ajouter un champ"),
    ("opt_min_length", "Min length", "Longueur min."),
    ("opt_max_length", "Max length", "Longueur max."),
    ("opt_pattern", "Pattern (regex)", "Motif (regex)"),
    ("opt_min", "Min", "Min"),
    ("opt_max", "Max", "Max"),
    ("opt_only_int", "Integers only", "Entiers seulement"),
    ("opt_only_domains", "Only domains", "Domaines autorisés"),
    ("opt_except_domains", "Except domains", "Domaines exclus"),
    ("opt_max_size", "Max size (bytes)", "Taille max. (octets)"),
    ("opt_convert_urls", "Convert URLs", "Convertir les URL"),
    ("opt_min_date", "Earliest date", "Date minimale"),
    ("opt_max_date", "Latest date", "Date maximale"),
    ("opt_on_create", "Set on create", "Fixée à la création"),
    ("opt_on_update", "Set on update", "Fixée à la modification"),
    (
        "opt_values",
        "Values (comma separated)",
        "Valeurs (séparées par des virgules)",
    ),
    ("opt_max_select", "Max selected", "Sélection max."),
    ("opt_min_select", "Min selected", "Sélection min."),
    ("opt_target", "Related collection", "Collection liée"),
    ("opt_choose", "Choose…", "Choisir…"),
    (
        "opt_cascade_delete",
        "Delete with the related record",
        "Supprimer avec l'enregistrement lié",
    ),
    ("opt_mime_types", "MIME types", "Types MIME"),
    (
        "opt_protected",
        "Protected (token needed)",
        "Protégé (jeton requis)",
    ),
    (
        "opt_hidden",
        "Hidden (superusers only)",
        "Masqué (superutilisateurs seulement)",
    ),
    (
        "opt_presentable",
        "Presentable (shown in relation pickers)",
        "Présentable (affiché dans les sélecteurs de relation)",
    ),
    (
        "add_unique_index",
        "Add a unique index",
        "Ajouter un index unique",
    ),
    ("indexes", "Indexes", "Index"),
    (
        "indexes_label",
        "One CREATE [UNIQUE] INDEX statement per line",
        "Une instruction CREATE [UNIQUE] INDEX par ligne",
    ),
    ("api_rules", "API rules", "Règles d'API"),
    (
        "rules_help",
        "Locked: superusers only. Empty: everyone. Otherwise a filter such as @request.auth.id != \"\".",
        "Verrouillée : superutilisateurs seulement. Vide : tout le monde. Sinon un filtre comme @request.auth.id != \"\".",
    ),
    ("rule_list", "List/search rule", "Règle de liste/recherche"),
    ("rule_view", "View rule", "Règle de consultation"),
    ("rule_create", "Create rule", "Règle de création"),
    ("rule_update", "Update rule", "Règle de modification"),
    ("rule_delete", "Delete rule", "Règle de suppression"),
    ("rule_auth", "Sign-in rule", "Règle de connexion"),
    (
        "rule_manage",
        "Manage rule (change others' email, verified, password)",
        "Règle de gestion (e-mail, vérification, mot de passe des autres)",
    ),
    ("sign_in_options", "Sign-in", "Connexion"),
    (
        "mfa",
        "Multi-factor authentication",
        "Authentification multifacteur",
    ),
    (
        "mfa_enabled",
        "Ask for a second factor",
        "Demander un second facteur",
    ),
    (
        "mfa_duration",
        "Seconds to give it",
        "Secondes pour le donner",
    ),
    ("mfa_rule", "Only for (rule)", "Seulement pour (règle)"),
    (
        "mfa_rule_placeholder",
        "empty: everyone",
        "vide : tout le monde",
    ),
    (
        "otp",
        "One-time codes by mail",
        "Codes à usage unique par e-mail",
    ),
    (
        "otp_enabled",
        "Allow sign-in with a mailed code",
        "Permettre la connexion par code envoyé",
    ),
    (
        "otp_duration",
        "Seconds a code lives",
        "Durée de vie d'un code (s)",
    ),
    ("otp_length", "Digits", "Chiffres"),
    (
        "rule_locked",
        "Superusers only",
        "Superutilisateurs seulement",
    ),
    (
        "rule_placeholder",
        "Empty: everyone may do this",
        "Vide : tout le monde peut le faire",
    ),
    ("rule_valid", "Valid rule", "Règle valide"),
    (
        "rule_public_hint",
        "Empty: anyone, even signed out, may do this.",
        "Vide : n'importe qui, même non connecté, peut le faire.",
    ),
    (
        "rule_locked_hint",
        "Locked: only superusers may do this.",
        "Verrouillée : seuls les superutilisateurs peuvent le faire.",
    ),
    (
        "system_collection_readonly",
        "This is a system collection: it cannot be changed or deleted here.",
        "C'est une collection système : elle ne peut pas être modifiée ni supprimée ici.",
    ),
    ("danger_zone", "Danger zone", "Zone dangereuse"),
    ("truncate", "Truncate…", "Vider…"),
    (
        "truncate_warning",
        "Delete every record of this collection? The collection itself stays. This cannot be undone.",
        "Supprimer tous les enregistrements de cette collection ? La collection reste. C'est irréversible.",
    ),
    (
        "truncate_button",
        "Delete all records",
        "Supprimer tous les enregistrements",
    ),
    (
        "delete_collection",
        "Delete collection…",
        "Supprimer la collection…",
    ),
    (
        "delete_collection_warning",
        "Delete this collection, its table and every record? This cannot be undone.",
        "Supprimer cette collection, sa table et tous ses enregistrements ? C'est irréversible.",
    ),
    (
        "delete_collection_button",
        "Delete the collection",
        "Supprimer la collection",
    ),
    (
        "type_name_to_confirm",
        "Type the collection's name to confirm:",
        "Tapez le nom de la collection pour confirmer :",
    ),
    (
        "confirm_name_mismatch",
        "The name you typed does not match; type the collection's exact name.",
        "Le nom tapé ne correspond pas ; tapez le nom exact de la collection.",
    ),
    (
        "collection_created",
        "Collection created.",
        "Collection créée.",
    ),
    (
        "collection_saved",
        "Collection saved.",
        "Collection enregistrée.",
    ),
    (
        "collection_truncated",
        "All records deleted.",
        "Tous les enregistrements ont été supprimés.",
    ),
    (
        "collection_deleted",
        "Collection deleted.",
        "Collection supprimée.",
    ),
];

static TABLES: LazyLock<Translations> = LazyLock::new(|| Translations::new(STRINGS));

/// Every string of `lang`, by key (the templates' `t`).
pub fn strings(lang: Lang) -> &'static BTreeMap<&'static str, &'static str> {
    TABLES.all(lang)
}

/// One string of `lang`; the key itself if it is missing (visible, not a crash).
pub fn text(lang: Lang, key: &'static str) -> &'static str {
    TABLES.text(lang, key)
}

/// The `?lang=` parameter of a request, if it names a supported language.
pub fn lang_param(req: &HttpRequest) -> Option<Lang> {
    crate::lang::query_lang(req)
}

/// The language of an admin request: `?lang=`, else the [`LANG_COOKIE`] cookie,
/// else `Accept-Language`, else English (see [`crate::lang`]).
pub fn request_lang(req: &HttpRequest) -> Lang {
    crate::lang::request_lang(req, LANG_COOKIE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut keys: Vec<&str> = STRINGS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), STRINGS.len(), "duplicate key in STRINGS");
        assert!(
            STRINGS
                .iter()
                .all(|(_, en, fr)| !en.is_empty() && !fr.is_empty())
        );
    }
}
