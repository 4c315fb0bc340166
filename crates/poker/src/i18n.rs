//! The words of the poker pages in English and French.
//!
//! Every string a page or fragment shows comes from [`strings`], which templates
//! read as `t.KEY`, and every refusal of the room rules is translated by
//! [`room_error`]. A language is picked by [`negotiate`]: `?lang=`, then the
//! `lang` cookie, then `Accept-Language`, then English.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use litebase::lang::Translations;

use crate::room::state::Action;
use crate::room::stories::StoryError;
use crate::room::{DeckError, RoomError};

/// A language the pages speak: litebase's, so mails and pages agree.
pub use litebase::mail::Lang;

/// The language of a request: `?lang=`, else the `lang` cookie, else
/// `Accept-Language`, else English (litebase's, shared with the admin UI).
pub use litebase::lang::negotiate;

/// (key, English, French) for every string the templates show.
const STRINGS: &[(&str, &str, &str)] = &[
    ("app_name", "Planning Poker", "Planning Poker"),
    ("stories", "Stories", "Histoires"),
    ("import_title", "Import stories", "Importer des histoires"),
    (
        "import_intro",
        "Add the stories of a tracker's export to this room's queue: choose the file, check the preview, then add them.",
        "Ajoutez à la file de cette salle les histoires d’un export de votre outil : choisissez le fichier, vérifiez l’aperçu, puis ajoutez-les.",
    ),
    ("import_file", "File", "Fichier"),
    (
        "import_formats",
        "CSV with any columns, Jira CSV or XML, GitHub issues JSON (gh issue list --json), Linear CSV, Azure DevOps CSV; 2 MiB at most.",
        "CSV avec n’importe quelles colonnes, Jira CSV ou XML, JSON des tickets GitHub (gh issue list --json), Linear CSV, Azure DevOps CSV ; 2 Mio au plus.",
    ),
    ("import_format", "Format", "Format"),
    (
        "import_detect",
        "Detect from the file",
        "Détecter d’après le fichier",
    ),
    (
        "import_mapping",
        "Which column holds what",
        "Quelle colonne contient quoi",
    ),
    ("import_none", "(none)", "(aucune)"),
    ("import_preview", "Preview", "Aperçu"),
    (
        "import_refresh",
        "Update the preview",
        "Mettre à jour l’aperçu",
    ),
    (
        "import_preview_title",
        "Stories found",
        "Histoires trouvées",
    ),
    (
        "import_current_estimate",
        "Estimate in the file",
        "Estimation dans le fichier",
    ),
    ("import_and_more", "…and more:", "…et d’autres :"),
    ("import_skipped", "Rows left out", "Lignes écartées"),
    ("import_confirm", "Add to the queue", "Ajouter à la file"),
    (
        "import_too_many",
        "Too many stories for this room's queue (500 at most); room left:",
        "Trop d’histoires pour la file de cette salle (500 au plus) ; place restante :",
    ),
    (
        "import_hosts_only",
        "Only the host and co-hosts of this room can import stories. Join the room as its host, or ask them.",
        "Seuls l’hôte et les co-hôtes de cette salle peuvent importer des histoires. Rejoignez la salle en tant qu’hôte, ou demandez-leur.",
    ),
    (
        "import_bad_form",
        "The form could not be read; choose the file again.",
        "Le formulaire n’a pas pu être lu ; choisissez à nouveau le fichier.",
    ),
    (
        "import_too_large",
        "The file is larger than 2 MiB; split it into smaller files.",
        "Le fichier dépasse 2 Mio ; découpez-le en fichiers plus petits.",
    ),
    (
        "import_empty",
        "Choose a file to import.",
        "Choisissez un fichier à importer.",
    ),
    (
        "import_unknown_format",
        "The format of this file could not be recognised; choose it in the list.",
        "Le format de ce fichier n’a pas été reconnu ; choisissez-le dans la liste.",
    ),
    (
        "import_failed",
        "The file could not be read",
        "Le fichier n’a pas pu être lu",
    ),
    (
        "import_no_stories",
        "No story was found in this file.",
        "Aucune histoire trouvée dans ce fichier.",
    ),
    ("cancel", "Cancel", "Annuler"),
    ("script", "script", "script"),
    ("summary_title", "Session summary", "Bilan de la séance"),
    ("summary_link", "Session summary", "Bilan de la séance"),
    (
        "summary_nothing",
        "Nothing estimated yet.",
        "Rien d’estimé pour l’instant.",
    ),
    ("summary_back", "Back to the room", "Retour à la salle"),
    ("summary_copy", "Copy the link", "Copier le lien"),
    ("summary_print", "Print", "Imprimer"),
    ("summary_totals", "Totals", "Totaux"),
    ("summary_estimated", "Estimated", "Estimées"),
    ("summary_skipped", "Skipped", "Passées"),
    ("summary_waiting", "Still to estimate", "Reste à estimer"),
    ("summary_rounds", "Rounds", "Tours"),
    ("summary_people", "People", "Personnes"),
    ("summary_votes", "Votes", "Votes"),
    ("summary_other_rounds", "Other rounds", "Autres tours"),
    ("story_key_short", "Key", "Clé"),
    ("stories_to_go", "to go", "à estimer"),
    ("stories_estimated", "estimated", "estimées"),
    ("stories_skipped", "skipped", "passées"),
    ("total", "Total", "Total"),
    (
        "queue_empty",
        "No stories yet. Add the stories to estimate, one per line, or import them from your tracker.",
        "Pas encore d’histoires. Ajoutez les histoires à estimer, une par ligne, ou importez-les depuis votre outil.",
    ),
    (
        "drag_to_reorder",
        "Drag to reorder",
        "Glisser pour réordonner",
    ),
    ("open_story", "Open the story", "Ouvrir l’histoire"),
    ("story_now", "now", "en cours"),
    ("story_skipped", "skipped", "passée"),
    ("story_reestimated", "re-estimated", "réestimée"),
    ("story_was", "was", "avant :"),
    ("story_play", "Vote now", "Voter maintenant"),
    ("story_replay", "Vote again", "Revoter"),
    ("move_up", "Move up", "Monter"),
    ("move_down", "Move down", "Descendre"),
    ("edit", "Edit", "Modifier"),
    ("save", "Save", "Enregistrer"),
    ("remove", "Remove", "Retirer"),
    ("story_title", "Title", "Titre"),
    ("story_key", "Key (e.g. PROJ-12)", "Clé (ex. PROJ-12)"),
    ("story_url", "Link", "Lien"),
    (
        "story_add_label",
        "Add stories (one per line)",
        "Ajouter des histoires (une par ligne)",
    ),
    (
        "story_add_placeholder",
        "As a user, I can sign in\nAs a user, I can reset my password",
        "En tant qu’utilisateur, je peux me connecter\nEn tant qu’utilisateur, je peux changer mon mot de passe",
    ),
    ("story_add", "Add", "Ajouter"),
    (
        "import_stories",
        "Import from a file…",
        "Importer depuis un fichier…",
    ),
    ("story_skip", "Skip story", "Passer l’histoire"),
    ("next_story", "Next story", "Histoire suivante"),
    (
        "estimates_export",
        "Estimates for your tracker",
        "Estimations pour votre outil",
    ),
    (
        "tagline",
        "Estimate together, in real time. No sign-up.",
        "Estimez ensemble, en temps réel. Sans inscription.",
    ),
    (
        "home_lead",
        "Create a room, share the link, vote in secret, reveal together.",
        "Créez une salle, partagez le lien, votez en secret, révélez ensemble.",
    ),
    (
        "feature_hidden",
        "Votes stay hidden until the reveal",
        "Les votes restent cachés jusqu’à la révélation",
    ),
    (
        "feature_live",
        "Live presence, timer and auto-reveal",
        "Présence en direct, minuteur et révélation automatique",
    ),
    (
        "feature_stats",
        "Average, median, agreement and outliers at a glance",
        "Moyenne, médiane, accord et valeurs isolées d’un coup d’œil",
    ),
    (
        "feature_history",
        "History with CSV, Markdown and JSON export",
        "Historique avec export CSV, Markdown et JSON",
    ),
    ("create_title", "Start a room", "Créer une salle"),
    ("room_name", "Room name", "Nom de la salle"),
    ("optional", "optional", "facultatif"),
    (
        "room_name_placeholder",
        "Sprint 42 refinement",
        "Affinage du sprint 42",
    ),
    ("your_name", "Your name", "Votre nom"),
    ("your_role", "You will", "Vous allez"),
    ("role_voter", "Vote", "Voter"),
    ("role_spectator", "Only watch", "Seulement observer"),
    ("voter", "voter", "votant"),
    ("spectator", "spectator", "observateur"),
    ("deck", "Deck", "Jeu de cartes"),
    (
        "deck_fibonacci",
        "Fibonacci (0 1 2 3 5 8 13 21…)",
        "Fibonacci (0 1 2 3 5 8 13 21…)",
    ),
    (
        "deck_modified",
        "Modified Fibonacci (0 ½ 1 2 3 5 8 13 20 40 100)",
        "Fibonacci modifié (0 ½ 1 2 3 5 8 13 20 40 100)",
    ),
    (
        "deck_tshirt",
        "T-shirt sizes (XS S M L XL XXL)",
        "Tailles de t-shirt (XS S M L XL XXL)",
    ),
    (
        "deck_powers2",
        "Powers of two (0 1 2 4 8 16 32 64)",
        "Puissances de deux (0 1 2 4 8 16 32 64)",
    ),
    ("deck_custom", "Custom values", "Valeurs personnalisées"),
    (
        "custom_values",
        "Custom values, comma-separated",
        "Valeurs personnalisées, séparées par des virgules",
    ),
    ("extra_cards", "Extra cards", "Cartes en plus"),
    ("card_question", "? (not sure)", "? (je ne sais pas)"),
    ("card_coffee", "☕ (break)", "☕ (pause)"),
    ("card_infinity", "∞ (too big)", "∞ (trop gros)"),
    (
        "auto_reveal",
        "Reveal automatically when everyone has voted",
        "Révéler automatiquement quand tout le monde a voté",
    ),
    ("create_submit", "Create room", "Créer la salle"),
    ("join_title", "Join the room", "Rejoindre la salle"),
    ("join_submit", "Join", "Rejoindre"),
    (
        "locked_title",
        "This room is locked",
        "Cette salle est verrouillée",
    ),
    (
        "locked_text",
        "The host has locked this room: nobody new can join. Ask the host to unlock it, or start your own room.",
        "L’hôte a verrouillé cette salle : personne ne peut plus la rejoindre. Demandez à l’hôte de la déverrouiller, ou créez votre salle.",
    ),
    ("not_found_title", "Room not found", "Salle introuvable"),
    (
        "not_found_text",
        "No room has this link. It may have expired after 24 hours without activity. You can start a new one in seconds.",
        "Aucune salle ne correspond à ce lien. Elle a peut-être expiré après 24 heures d’inactivité. Vous pouvez en créer une nouvelle en quelques secondes.",
    ),
    ("new_room", "Start a new room", "Créer une nouvelle salle"),
    ("language", "Language", "Langue"),
    (
        "theme_toggle",
        "Switch between light and dark theme",
        "Basculer entre thème clair et sombre",
    ),
    ("theme", "Theme", "Thème"),
    ("share_link", "Invite link", "Lien d’invitation"),
    ("invite", "Invite", "Inviter"),
    ("room_code", "Room code", "Code de la salle"),
    ("untitled_room", "Room", "Salle"),
    ("seat_link", "Your personal link", "Votre lien personnel"),
    (
        "seat_link_note",
        "Keep it secret: opened on another device, it moves your seat there.",
        "Gardez-le secret : ouvert sur un autre appareil, il y déplace votre place.",
    ),
    ("copy", "Copy", "Copier"),
    ("copied", "Copied", "Copié"),
    ("participants", "Participants", "Participants"),
    ("host", "host", "hôte"),
    ("co_host", "co-host", "co-hôte"),
    ("online", "online", "en ligne"),
    ("away", "away", "absent"),
    ("gone", "gone", "parti"),
    ("voted", "voted", "a voté"),
    ("waiting", "waiting", "en attente"),
    ("watching", "watching", "observe"),
    ("vote_changed", "changed", "modifié"),
    (
        "vote_changed_note",
        "Changed their vote in this round",
        "A changé son vote pendant ce tour",
    ),
    (
        "everyone_voted",
        "Everyone has voted",
        "Tout le monde a voté",
    ),
    (
        "sound_everyone_voted",
        "Sound when everyone has voted",
        "Son quand tout le monde a voté",
    ),
    ("no_vote", "no vote", "pas de vote"),
    ("you", "you", "vous"),
    ("round", "Round", "Tour"),
    ("topic", "Topic", "Sujet"),
    ("no_topic", "No topic yet", "Pas encore de sujet"),
    ("phase_voting", "Voting", "Vote en cours"),
    ("phase_revealed", "Revealed", "Révélé"),
    ("phase_completed", "Completed", "Terminé"),
    ("votes_cast", "votes", "votes"),
    ("of", "of", "sur"),
    ("your_cards", "Your cards", "Vos cartes"),
    ("pick_card", "Pick a card", "Choisissez une carte"),
    (
        "keys_hint",
        "Tip: type a card’s value to pick it (1 then 3 for 13); each card shows its keys.",
        "Astuce : tapez la valeur d’une carte pour la choisir (1 puis 3 pour 13) ; chaque carte montre ses touches.",
    ),
    (
        "spectating",
        "You are watching this round.",
        "Vous observez ce tour.",
    ),
    (
        "wait_next",
        "Voting is closed for this round.",
        "Le vote est clos pour ce tour.",
    ),
    ("clear_vote", "Take my vote back", "Retirer mon vote"),
    ("reveal", "Reveal cards", "Révéler les cartes"),
    ("reset", "Clear votes", "Effacer les votes"),
    ("next_round", "Next round", "Tour suivant"),
    ("set_topic", "Set topic", "Définir le sujet"),
    (
        "topic_placeholder",
        "What are we estimating?",
        "Qu’estimons-nous ?",
    ),
    ("final_estimate", "Final estimate", "Estimation finale"),
    ("save_estimate", "Save estimate", "Enregistrer l’estimation"),
    ("results", "Results", "Résultats"),
    (
        "results_hidden",
        "Results appear when the cards are revealed.",
        "Les résultats apparaissent à la révélation des cartes.",
    ),
    ("average", "Average", "Moyenne"),
    ("median", "Median", "Médiane"),
    ("mode", "Most voted", "Plus votée"),
    ("min", "Min", "Min"),
    ("max", "Max", "Max"),
    ("agreement", "Agreement", "Accord"),
    ("distribution", "Distribution", "Répartition"),
    ("outlier", "outlier", "valeur isolée"),
    ("history", "History", "Historique"),
    (
        "no_history",
        "Completed rounds will appear here.",
        "Les tours terminés apparaîtront ici.",
    ),
    ("export", "Export", "Exporter"),
    ("export_csv", "CSV", "CSV"),
    ("export_md", "Markdown", "Markdown"),
    ("export_json", "JSON", "JSON"),
    ("expires", "Room expires", "La salle expire le"),
    (
        "expires_note",
        "24 hours after the last activity",
        "24 heures après la dernière activité",
    ),
    ("connection_open", "Live", "Connecté"),
    ("connection_closed", "Reconnecting…", "Reconnexion…"),
    (
        "connection_ended",
        "Disconnected: reload",
        "Déconnecté : recharger",
    ),
    ("timer", "Timer", "Minuteur"),
    ("time_up", "Time is up", "Temps écoulé"),
    ("seconds", "seconds", "secondes"),
    ("set_timer", "Set timer", "Régler le minuteur"),
    ("start_timer", "Start", "Démarrer"),
    ("stop_timer", "Stop", "Arrêter"),
    ("remove_timer", "Remove timer", "Supprimer le minuteur"),
    ("manage", "Room settings", "Réglages de la salle"),
    ("rename_room", "Rename room", "Renommer la salle"),
    ("rename", "Rename", "Renommer"),
    ("lock", "Lock room", "Verrouiller la salle"),
    ("unlock", "Unlock room", "Déverrouiller la salle"),
    ("locked_badge", "locked", "verrouillée"),
    ("change_deck", "Change deck", "Changer de jeu"),
    (
        "reset_votes_too",
        "Clear the current votes",
        "Effacer les votes en cours",
    ),
    ("apply", "Apply", "Appliquer"),
    ("permissions", "Who may", "Qui peut"),
    ("perm_reveal", "reveal", "révéler"),
    ("perm_reset", "clear votes", "effacer les votes"),
    (
        "perm_next_round",
        "start the next round",
        "lancer le tour suivant",
    ),
    ("perm_edit_topic", "edit the topic", "modifier le sujet"),
    ("everyone", "Everyone", "Tout le monde"),
    ("hosts_only", "Hosts only", "Hôtes seulement"),
    (
        "allow_spectators",
        "Allow spectators",
        "Autoriser les observateurs",
    ),
    ("save_settings", "Save settings", "Enregistrer les réglages"),
    ("people", "People", "Personnes"),
    ("make_cohost", "Make co-host", "Nommer co-hôte"),
    ("remove_cohost", "Remove co-host", "Retirer co-hôte"),
    ("make_host", "Make host", "Nommer hôte"),
    ("kick", "Remove", "Exclure"),
    ("switch_spectator", "Watch only", "Seulement observer"),
    ("switch_voter", "Join as voter", "Participer au vote"),
    ("your_seat", "Your seat", "Votre place"),
    ("skip_link", "Skip to the cards", "Aller aux cartes"),
    ("skip_main", "Skip to the content", "Aller au contenu"),
    (
        "footer",
        "Open source planning poker. No account, no tracking.",
        "Planning poker libre. Sans compte, sans pistage.",
    ),
    (
        "save_error",
        "The change could not be saved; try again.",
        "La modification n’a pas pu être enregistrée ; réessayez.",
    ),
    (
        "no_seat",
        "You have no seat in this room; open the room link to join.",
        "Vous n’avez pas de place dans cette salle ; ouvrez le lien de la salle pour la rejoindre.",
    ),
    (
        "room_missing",
        "No room has this code; check the link or create a new room.",
        "Aucune salle n’a ce code ; vérifiez le lien ou créez une salle.",
    ),
    (
        "room_busy",
        "The room is busy; reload the page.",
        "La salle est occupée ; rechargez la page.",
    ),
    (
        "invalid_message",
        "That request was not understood; reload the page.",
        "Cette demande n’a pas été comprise ; rechargez la page.",
    ),
    (
        "too_many",
        "Too many actions; slow down.",
        "Trop d’actions ; ralentissez.",
    ),
    (
        "kicked",
        "You were removed from this room.",
        "Vous avez été exclu de cette salle.",
    ),
    (
        "closed",
        "This room was closed.",
        "Cette salle a été fermée.",
    ),
    (
        "room_deleted",
        "This room was deleted by an administrator.",
        "Cette salle a été supprimée par un administrateur.",
    ),
    (
        "room_expired",
        "This room expired after a long idle time; create a new room.",
        "Cette salle a expiré après une longue inactivité ; créez-en une nouvelle.",
    ),
    (
        "name_required",
        "Please enter your name.",
        "Veuillez saisir votre nom.",
    ),
    // The results webhook: the host's form, its refusals, the posted messages.
    ("webhook_title", "Results webhook", "Webhook des résultats"),
    (
        "webhook_help",
        "Post each final estimate to a Slack or Teams channel, or to any service that takes JSON.",
        "Publier chaque estimation finale dans un canal Slack ou Teams, ou vers tout service qui accepte du JSON.",
    ),
    ("webhook_url", "Webhook URL", "URL du webhook"),
    ("webhook_kind", "Format", "Format"),
    ("webhook_generic", "JSON (generic)", "JSON (générique)"),
    ("webhook_slack", "Slack", "Slack"),
    ("webhook_teams", "Microsoft Teams", "Microsoft Teams"),
    ("webhook_save", "Save webhook", "Enregistrer le webhook"),
    ("webhook_remove", "Remove webhook", "Supprimer le webhook"),
    (
        "webhook_send_test",
        "Send a test message",
        "Envoyer un message de test",
    ),
    (
        "webhook_none",
        "No webhook: estimates stay in this room.",
        "Aucun webhook : les estimations restent dans cette salle.",
    ),
    (
        "webhook_active",
        "Estimates are posted to",
        "Les estimations sont publiées vers",
    ),
    (
        "webhook_replace_hint",
        "Saving replaces the current URL.",
        "Enregistrer remplace l’URL actuelle.",
    ),
    (
        "webhook_test_queued",
        "Test message on its way.",
        "Message de test en route.",
    ),
    (
        "webhook_not_host",
        "Only the host may change the room's webhook.",
        "Seul l’hôte peut modifier le webhook de la salle.",
    ),
    (
        "webhook_bad_url",
        "Give an http or https URL with a host, without spaces.",
        "Indiquez une URL http ou https avec un hôte, sans espaces.",
    ),
    (
        "webhook_too_long",
        "A webhook URL is at most 500 characters.",
        "Une URL de webhook compte au plus 500 caractères.",
    ),
    (
        "webhook_private",
        "This server does not post to loopback, private or link-local addresses; use a public URL.",
        "Ce serveur ne publie pas vers des adresses locales, privées ou de lien local ; utilisez une URL publique.",
    ),
    (
        "webhook_not_set",
        "No webhook is set; save one first.",
        "Aucun webhook n’est défini ; enregistrez-en un d’abord.",
    ),
    ("hook_updated", "updated", "modifiée"),
    ("hook_votes", "Votes", "Votes"),
    ("hook_consensus", "consensus", "consensus"),
    ("hook_cards", "Cards", "Cartes"),
    ("hook_open_room", "Open the room", "Ouvrir la salle"),
    ("hook_open_story", "Open the story", "Ouvrir le ticket"),
    (
        "hook_test",
        "Test message from Planning Poker: this room's final estimates will be posted here.",
        "Message de test de Planning Poker : les estimations finales de cette salle seront publiées ici.",
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

/// A stable code per refusal, for clients and tests that should not match words.
pub fn room_error_code(error: &RoomError) -> &'static str {
    match error {
        RoomError::UnknownParticipant { .. } => "unknown_participant",
        RoomError::AlreadyJoined { .. } => "already_joined",
        RoomError::NotAllowed { .. } => "not_allowed",
        RoomError::RoomLocked => "room_locked",
        RoomError::RoomFull { .. } => "room_full",
        RoomError::SpectatorsNotAllowed => "spectators_not_allowed",
        RoomError::InvalidName { .. } => "invalid_name",
        RoomError::InvalidRoomName { .. } => "invalid_room_name",
        RoomError::TopicTooLong { .. } => "topic_too_long",
        RoomError::InvalidEstimate { .. } => "invalid_estimate",
        RoomError::UnknownCard { .. } => "unknown_card",
        RoomError::NotVoting { .. } => "not_voting",
        RoomError::SpectatorCannotVote => "spectator_cannot_vote",
        RoomError::NoVotes => "no_votes",
        RoomError::WrongPhase { .. } => "wrong_phase",
        RoomError::DeckChangeNeedsReset => "deck_change_needs_reset",
        RoomError::InvalidDeck(_) => "invalid_deck",
        RoomError::InvalidTimer { .. } => "invalid_timer",
        RoomError::NoTimer => "no_timer",
        RoomError::HostCannotLeave => "host_cannot_leave",
        RoomError::SelfTarget { .. } => "self_target",
        RoomError::Story(StoryError::UnknownStory { .. }) => "unknown_story",
        RoomError::Story(StoryError::QueueFull { .. }) => "queue_full",
        RoomError::Story(_) => "invalid_story",
        RoomError::RoundInProgress => "round_in_progress",
        RoomError::NoStory => "no_story",
    }
}

fn action_fr(action: &Action) -> &'static str {
    match action {
        Action::Reveal => "révéler les votes",
        Action::Reset => "effacer les votes",
        Action::NextRound => "lancer le tour suivant",
        Action::EditTopic => "modifier le sujet",
        Action::RecordEstimate => "enregistrer l’estimation finale",
        Action::Kick => "exclure quelqu’un",
        Action::ManageCoHosts => "gérer les co-hôtes",
        Action::TransferHost => "transmettre le rôle d’hôte",
        Action::ChangeRole => "changer le rôle de quelqu’un",
        Action::RenameRoom => "renommer la salle",
        Action::Lock => "verrouiller ou déverrouiller la salle",
        Action::ChangeSettings => "changer les réglages de la salle",
        Action::ChangeDeck => "changer de jeu",
        Action::Timer => "utiliser le minuteur",
        Action::ManageStories => "modifier la file des histoires",
        Action::Leave => "quitter la salle",
    }
}

fn phase_fr(phase: crate::room::Phase) -> &'static str {
    match phase {
        crate::room::Phase::Voting => "en vote",
        crate::room::Phase::Revealed => "révélé",
        crate::room::Phase::Completed => "terminé",
    }
}

fn deck_error_fr(error: &DeckError) -> String {
    match error {
        DeckError::Empty => "Un jeu personnalisé a besoin d’au moins une carte.".into(),
        DeckError::TooManyCards { max } => {
            format!("Un jeu personnalisé compte au plus {max} cartes ; retirez-en.")
        }
        DeckError::BlankCard => "Les cartes personnalisées ne peuvent pas être vides.".into(),
        DeckError::CardTooLong { card, max } => {
            format!("La carte « {card} » est trop longue : {max} caractères au plus.")
        }
        DeckError::ControlCharacter { card } => {
            format!("La carte « {card} » contient un caractère de contrôle.")
        }
        DeckError::DuplicateCard { card } => {
            format!("La carte « {card} » apparaît deux fois ; les cartes doivent être uniques.")
        }
    }
}

fn story_error_fr(error: &StoryError) -> String {
    match error {
        StoryError::InvalidTitle { max } => {
            format!("Une histoire a besoin d’un titre de 1 à {max} caractères.")
        }
        StoryError::InvalidKey { max } => {
            format!("Une clé d’histoire compte au plus {max} caractères, sans retour à la ligne.")
        }
        StoryError::InvalidUrl { max } => format!(
            "Un lien d’histoire commence par http:// ou https:// et compte au plus {max} caractères."
        ),
        StoryError::QueueFull { max } => {
            format!("Une salle contient au plus {max} histoires ; retirez-en d’abord.")
        }
        StoryError::UnknownStory { .. } => "Cette histoire n’est plus dans la salle.".into(),
    }
}

/// A refusal of the room rules, said in `lang`.
pub fn room_error(lang: Lang, error: &RoomError) -> String {
    if lang == Lang::En {
        return error.to_string();
    }
    match error {
        RoomError::UnknownParticipant { .. } => {
            "Cette personne n’est pas dans la salle ; rejoignez-la d’abord.".into()
        }
        RoomError::AlreadyJoined { .. } => "Vous avez déjà une place ; reconnectez-vous.".into(),
        RoomError::NotAllowed { action } => format!(
            "Vous ne pouvez pas {} dans cette salle ; demandez à l’hôte.",
            action_fr(action)
        ),
        RoomError::RoomLocked => {
            "Cette salle est verrouillée : demandez à l’hôte de la déverrouiller.".into()
        }
        RoomError::RoomFull { max } => format!("Cette salle est pleine ({max} participants)."),
        RoomError::SpectatorsNotAllowed => {
            "Cette salle n’accepte pas d’observateurs ; rejoignez-la comme votant.".into()
        }
        RoomError::InvalidName { max } => format!(
            "Un nom doit compter de 1 à {max} caractères, sans caractères de contrôle."
        ),
        RoomError::InvalidRoomName { max } => format!(
            "Un nom de salle compte au plus {max} caractères, sans caractères de contrôle."
        ),
        RoomError::TopicTooLong { max } => {
            format!("Un sujet compte au plus {max} caractères.")
        }
        RoomError::InvalidEstimate { max } => {
            format!("Une estimation finale compte de 1 à {max} caractères.")
        }
        RoomError::UnknownCard { card } => {
            format!("« {card} » n’est pas une carte de ce jeu ; choisissez une carte du jeu.")
        }
        RoomError::NotVoting { phase } => format!(
            "Les votes ne changent que pendant le vote (le tour est {}) ; attendez le tour suivant.",
            phase_fr(*phase)
        ),
        RoomError::SpectatorCannotVote => {
            "Les observateurs ne votent pas ; passez votant d’abord.".into()
        }
        RoomError::NoVotes => "Personne n’a encore voté ; rien à révéler.".into(),
        RoomError::WrongPhase { action, phase } => format!(
            "Impossible de {} quand le tour est {}.",
            action_fr(action),
            phase_fr(*phase)
        ),
        RoomError::Story(e) => story_error_fr(e),
        RoomError::RoundInProgress => {
            "Des votes sont en cours sur cette histoire ; révélez-les ou effacez-les d’abord."
                .into()
        }
        RoomError::NoStory => "Ce tour n’a pas d’histoire de la file à passer.".into(),
        RoomError::DeckChangeNeedsReset => {
            "Des votes ont été faits avec ce jeu ; changez de jeu en effaçant les votes, ou après le tour."
                .into()
        }
        RoomError::InvalidDeck(e) => deck_error_fr(e),
        RoomError::InvalidTimer { min, max } => {
            format!("Un minuteur dure de {min} à {max} secondes.")
        }
        RoomError::NoTimer => "Aucun minuteur n’est réglé ; choisissez d’abord une durée.".into(),
        RoomError::HostCannotLeave => {
            "L’hôte ne peut pas partir ; transmettez d’abord le rôle d’hôte.".into()
        }
        RoomError::SelfTarget { action } => {
            format!("Vous ne pouvez pas vous {} vous-même.", action_fr(action))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut seen = std::collections::HashSet::new();
        for (key, en, fr) in STRINGS {
            assert!(seen.insert(key), "duplicate key {key}");
            assert!(!en.is_empty() && !fr.is_empty(), "{key} is empty");
        }
        assert_eq!(strings(Lang::Fr).len(), STRINGS.len());
    }

    #[test]
    fn room_errors_are_translated() {
        let e = RoomError::RoomLocked;
        assert_eq!(room_error(Lang::En, &e), e.to_string());
        assert!(room_error(Lang::Fr, &e).contains("verrouillée"));
        assert_eq!(room_error_code(&e), "room_locked");
    }
}
