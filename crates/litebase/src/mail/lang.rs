//! The languages mails are written in, and picking one from `Accept-Language`.

/// A language the mail templates are translated into.
///
/// Exists so a mail reaches people in the language their browser asks for; English is
/// the fallback for everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// Every supported language, for tests and admin screens that list them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 primary tag (`"en"`, `"fr"`), as used in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The supported language of a code such as `fr` or `fr-CA` (a `?lang=`
    /// parameter or a cookie); `None` for anything else.
    ///
    /// ```
    /// use litebase::mail::Lang;
    /// assert_eq!(Lang::parse("fr-CA"), Some(Lang::Fr));
    /// assert_eq!(Lang::parse("de"), None);
    /// ```
    pub fn parse(code: &str) -> Option<Lang> {
        Lang::from_tag(code).filter(|_| code.trim() != "*")
    }

    /// This language's position in [`Lang::ALL`], for per-language caches.
    pub fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Fr => 1,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header value.
    ///
    /// Region tags count for their language (`fr-CA` is French), quality values
    /// rank the choices (`q=0` means "not this one"), ties go to the earlier entry, and
    /// anything missing, unsupported or malformed falls back to English.
    ///
    /// ```
    /// use litebase::mail::Lang;
    /// assert_eq!(Lang::from_accept_language(Some("fr-FR,fr;q=0.9,en;q=0.8")), Lang::Fr);
    /// assert_eq!(Lang::from_accept_language(Some("de, en;q=0.5, fr;q=0.7")), Lang::Fr);
    /// assert_eq!(Lang::from_accept_language(None), Lang::En);
    /// ```
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::default();
        };
        let mut best: Option<(Lang, u16)> = None;
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let Some(quality) = quality(parts) else {
                continue;
            };
            if quality > 0 && best.is_none_or(|(_, best_q)| quality > best_q) {
                best = Some((lang, quality));
            }
        }
        best.map_or_else(Lang::default, |(lang, _)| lang)
    }

    /// The supported language of one language range (`fr`, `fr-FR`, `EN_us`, `*`).
    fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") || primary == "*" {
            Some(Lang::En)
        } else {
            None
        }
    }
}

/// The entry's quality in thousandths (1000 when absent); `None` when malformed.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<u16> {
    let mut quality = 1000;
    for param in params {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        let value: f32 = value.trim().parse().ok()?;
        if !(0.0..=1.0).contains(&value) {
            return None;
        }
        // In range 0..=1, so the product fits a u16 exactly enough for ranking.
        quality = (value * 1000.0).round() as u16;
    }
    Some(quality)
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        let cases: &[(Option<&str>, Lang)] = &[
            (None, Lang::En),
            (Some(""), Lang::En),
            (Some("fr"), Lang::Fr),
            (Some("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr),
            (Some("en-US,en;q=0.9,fr;q=0.8"), Lang::En),
            (Some("FR-ca"), Lang::Fr),
            (Some("fr_FR"), Lang::Fr),
            // Quality values outrank order.
            (Some("en;q=0.5, fr;q=0.8"), Lang::Fr),
            (Some("fr;q=0.2,en;q=0.3"), Lang::En),
            (Some("en;q=0.5 , fr ; q=0.6"), Lang::Fr),
            // Unsupported languages are skipped, not treated as English.
            (Some("de-DE,de;q=0.9,fr;q=0.5"), Lang::Fr),
            (Some("de,es"), Lang::En),
            // q=0 means "not acceptable".
            (Some("fr;q=0, en;q=0.1"), Lang::En),
            (Some("fr;q=0"), Lang::En),
            // Ties go to the first entry.
            (Some("fr;q=0.5, en;q=0.5"), Lang::Fr),
            // The wildcard stands for the default.
            (Some("fr;q=0.5, *"), Lang::En),
            (Some("fr, *;q=0.5"), Lang::Fr),
            // Other parameters are ignored.
            (Some("fr;level=1"), Lang::Fr),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(*header), *want, "{header:?}");
        }
    }

    #[test]
    fn malformed_accept_language_falls_back_to_english() {
        let garbage = [
            "garbage",
            ";;;,,,",
            "fr;q=abc",
            "fr;q=2",
            "fr;q=-1",
            "fr;q",
            "fr;q=NaN",
            "\u{0}\u{ffff}",
            "ça,été",
            "francais",
        ];
        for header in garbage {
            assert_eq!(
                Lang::from_accept_language(Some(header)),
                Lang::En,
                "{header:?}"
            );
        }
        // A malformed entry does not spoil the well-formed ones.
        assert_eq!(
            Lang::from_accept_language(Some("en;q=zz, fr;q=0.3")),
            Lang::Fr
        );
    }

    #[test]
    fn codes_are_bcp47_primary_tags() {
        assert_eq!(Lang::En.code(), "en");
        assert_eq!(Lang::Fr.code(), "fr");
    }
}
