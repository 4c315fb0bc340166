//! Cron expressions as PocketBase reads them: five space-separated fields
//! (minute, hour, day of month, month, day of week) or a macro (`@yearly`,
//! `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`).
//!
//! Each field is a comma list of `*`, `N`, `A-B`, `*/S` or `A-B/S`. Like
//! PocketBase (and unlike Vixie cron), a moment is due only when *all five*
//! fields match, day of month and day of week included; Sunday is 0. Times
//! are UTC.
//!
//! ```
//! use litebase::cron::Schedule;
//! let s = Schedule::parse("*/15 9-17 * * 1-5").unwrap();
//! assert!(s.is_due(time::macros::datetime!(2026-12-07 09:30 UTC))); // a Monday
//! assert!(!s.is_due(time::macros::datetime!(2026-12-06 09:30 UTC))); // a Sunday
//! ```

use time::{Duration, OffsetDateTime, UtcOffset};

/// Why an expression is not a schedule; the message says what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not a macro and not five fields.
    #[error(
        "invalid cron expression {0:?}: use a macro (@yearly, @monthly, @weekly, @daily, @hourly) or 5 space-separated fields: minute hour day-of-month month day-of-week"
    )]
    Shape(String),
    /// One field is wrong.
    #[error("invalid {field} field {text:?}: {why}")]
    Field {
        /// Which of the five.
        field: &'static str,
        /// What was written.
        text: String,
        /// What is wrong with it.
        why: String,
    },
}

/// A parsed cron expression: the minutes, hours, days, months and weekdays at
/// which it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    expression: String,
}

/// The macros and the five fields they stand for.
const MACROS: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// The five fields: name, smallest and largest value.
const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 6),
];

/// How far [`Schedule::next_after`] looks: 29 years covers every weekday of
/// every 29 February.
const HORIZON_DAYS: i64 = 366 * 29;

impl Schedule {
    /// Parses `expression` (a macro or five fields).
    pub fn parse(expression: &str) -> Result<Schedule, ScheduleError> {
        let trimmed = expression.trim();
        let expanded = MACROS
            .iter()
            .find(|(name, _)| *name == trimmed)
            .map_or(trimmed, |(_, fields)| fields);
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(ScheduleError::Shape(expression.to_string()));
        }
        let mut sets = [0u64; 5];
        for (i, (part, &(field, min, max))) in parts.iter().zip(FIELDS.iter()).enumerate() {
            sets[i] = parse_field(part, min, max).map_err(|why| ScheduleError::Field {
                field,
                text: (*part).to_string(),
                why,
            })?;
        }
        Ok(Schedule {
            minutes: sets[0],
            hours: sets[1],
            days: sets[2],
            months: sets[3],
            weekdays: sets[4],
            // Like PocketBase, a macro is shown as the fields it stands for.
            expression: parts.join(" "),
        })
    }

    /// The expression as listed: five fields, macros expanded.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Whether the schedule is due in the minute of `at` (converted to UTC).
    pub fn is_due(&self, at: OffsetDateTime) -> bool {
        let at = at.to_offset(UtcOffset::UTC);
        has(self.minutes, at.minute().into())
            && has(self.hours, at.hour().into())
            && self.day_matches(at)
    }

    fn day_matches(&self, at: OffsetDateTime) -> bool {
        has(self.days, at.day().into())
            && has(self.months, u8::from(at.month()).into())
            && has(self.weekdays, at.weekday().number_days_from_sunday().into())
    }

    /// The first whole minute after `after` at which the schedule is due, or
    /// `None` when it never is (`0 0 31 2 *`).
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let after = after.to_offset(UtcOffset::UTC);
        let start = after.replace_second(0).ok()?.replace_nanosecond(0).ok()? + Duration::MINUTE;
        let mut day = start.replace_time(time::Time::MIDNIGHT);
        for _ in 0..HORIZON_DAYS {
            if self.day_matches(day) {
                let first = if day.date() == start.date() {
                    (start.hour(), start.minute())
                } else {
                    (0, 0)
                };
                if let Some((h, m)) = self.first_time_from(first) {
                    return day.replace_hour(h).ok()?.replace_minute(m).ok();
                }
            }
            day += Duration::DAY;
        }
        None
    }

    /// The first due (hour, minute) of a due day at or after `from`.
    fn first_time_from(&self, from: (u8, u8)) -> Option<(u8, u8)> {
        for h in from.0..24 {
            if !has(self.hours, h.into()) {
                continue;
            }
            let first_minute = if h == from.0 { from.1 } else { 0 };
            if let Some(m) = (first_minute..60).find(|m| has(self.minutes, (*m).into())) {
                return Some((h, m));
            }
        }
        None
    }
}

fn has(set: u64, value: u32) -> bool {
    value < 64 && set & (1 << value) != 0
}

/// A field's values as a bit set; the error says what is wrong.
fn parse_field(text: &str, min: u32, max: u32) -> Result<u64, String> {
    let mut set = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            None => (item, 1),
            Some((range, step)) => {
                let step = number(step)?;
                if step < 1 || step > max {
                    return Err(format!("the step must be between 1 and {max}"));
                }
                (range, step)
            }
        };
        let (from, to) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (number(a)?, number(b)?);
            if a < min || a > max {
                return Err(format!("a range must start between {min} and {max}"));
            }
            if b < a || b > max {
                return Err(format!("a range must end between {a} and {max}"));
            }
            (a, b)
        } else {
            if step != 1 {
                return Err("a step goes with * or a range (*/5, 1-30/5)".into());
            }
            let v = number(range)?;
            if v < min || v > max {
                return Err(format!("values must be between {min} and {max}"));
            }
            (v, v)
        };
        let mut v = from;
        while v <= to {
            set |= 1 << v;
            v += step;
        }
    }
    Ok(set)
}

fn number(text: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a number"));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is too large a number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn parse(e: &str) -> Schedule {
        Schedule::parse(e).unwrap_or_else(|err| panic!("{e}: {err}"))
    }

    #[test]
    fn macros_expand_to_their_fields() {
        assert_eq!(parse("@yearly").expression(), "0 0 1 1 *");
        assert_eq!(parse("@annually").expression(), "0 0 1 1 *");
        assert_eq!(parse("@monthly").expression(), "0 0 1 * *");
        assert_eq!(parse("@weekly").expression(), "0 0 * * 0");
        assert_eq!(parse("@daily").expression(), "0 0 * * *");
        assert_eq!(parse("@midnight").expression(), "0 0 * * *");
        assert_eq!(parse("@hourly").expression(), "0 * * * *");
        assert_eq!(parse(" 0  */6 * * * ").expression(), "0 */6 * * *");
    }

    #[test]
    fn fields_accept_lists_ranges_and_steps() {
        let s = parse("1,2,10-20/5,*/30 * * * *");
        let minutes: Vec<u32> = (0..60).filter(|m| has(s.minutes, *m)).collect();
        assert_eq!(minutes, vec![0, 1, 2, 10, 15, 20, 30]);
        let s = parse("* 22-23 31 12 6");
        assert!(s.is_due(datetime!(2022-12-31 23:59 UTC))); // a Saturday
        assert!(!s.is_due(datetime!(2022-12-31 21:59 UTC)));
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        for bad in [
            "",
            "* * * *",
            "* * * * * *",
            "@every 5m",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * 32 * *",
            "* * * 13 *",
            "* * * * 7",
            "5/2 * * * *",
            "*/0 * * * *",
            "*/60 * * * *",
            "10-5 * * * *",
            "a * * * *",
            "-1 * * * *",
            "1,,2 * * * *",
            "* * * JAN *",
            "1-2-3 * * * *",
            "*/2/3 * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let err = Schedule::parse("* 24 * * *").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid hour field \"24\": values must be between 0 and 23")
        );
    }

    #[test]
    fn day_of_month_and_weekday_must_both_match() {
        // PocketBase's rule, not Vixie cron's "either".
        let s = parse("0 0 13 * 5"); // Friday the 13th
        assert!(s.is_due(datetime!(2026-11-13 00:00 UTC)));
        assert!(!s.is_due(datetime!(2026-11-20 00:00 UTC)));
        assert_eq!(
            s.next_after(datetime!(2026-01-01 00:00 UTC)),
            Some(datetime!(2026-02-13 00:00 UTC))
        );
    }

    #[test]
    fn next_run_is_the_following_due_minute() {
        let s = parse("30 2 * * *");
        assert_eq!(
            s.next_after(datetime!(2026-12-04 02:30:00 UTC)),
            Some(datetime!(2026-12-05 02:30 UTC))
        );
        assert_eq!(
            s.next_after(datetime!(2026-12-04 02:29:59.9 UTC)),
            Some(datetime!(2026-12-04 02:30 UTC))
        );
        assert_eq!(
            parse("@yearly").next_after(datetime!(2026-12-31 23:59 UTC)),
            Some(datetime!(2027-01-01 00:00 UTC))
        );
        assert_eq!(
            parse("0 12 29 2 1").next_after(datetime!(2026-01-01 00:00 UTC)),
            Some(datetime!(2044-02-29 12:00 UTC)),
            "the next 29 February that is a Monday"
        );
        assert_eq!(
            parse("0 0 31 2 *").next_after(datetime!(2026-01-01 0:00 UTC)),
            None
        );
    }

    fn moment() -> impl Strategy<Value = OffsetDateTime> {
        (0i64..4_000_000_000).prop_map(|s| {
            OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        })
    }

    fn field(min: u32, max: u32) -> impl Strategy<Value = String> {
        let item = prop_oneof![
            Just("*".to_string()),
            (min..=max).prop_map(|v| v.to_string()),
            (min..=max, 0..=max - min)
                .prop_map(move |(a, len)| format!("{a}-{}", (a + len).min(max))),
            (1..=max).prop_map(|s| format!("*/{s}")),
            (min..=max, 1..=max).prop_map(move |(a, s)| format!("{a}-{max}/{s}")),
        ];
        prop::collection::vec(item, 1..4).prop_map(|v| v.join(","))
    }

    fn expression() -> impl Strategy<Value = String> {
        (
            field(0, 59),
            field(0, 23),
            field(1, 31),
            field(1, 12),
            field(0, 6),
        )
            .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
    }

    proptest! {
        #[test]
        fn the_next_run_is_due_and_nothing_before_it_is(expr in expression(), at in moment()) {
            let s = Schedule::parse(&expr).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Some(next) = s.next_after(at) {
                prop_assert!(next > at);
                prop_assert!(s.is_due(next));
                prop_assert_eq!(next.second(), 0);
                // Every minute in between (checked up to two days) is not due.
                let mut t = next - Duration::MINUTE;
                let mut checked = 0;
                while t > at && checked < 2 * 24 * 60 {
                    prop_assert!(!s.is_due(t), "{} is due before {}", t, next);
                    t -= Duration::MINUTE;
                    checked += 1;
                }
            }
        }

        #[test]
        fn a_listed_expression_parses_to_the_same_schedule(expr in expression()) {
            let s = Schedule::parse(&expr).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Schedule::parse(s.expression()).ok(), Some(s));
        }

        #[test]
        fn parsing_never_panics(text in "[-*/,0-9a-z@ ]{0,30}") {
            let _ = Schedule::parse(&text);
        }
    }
}
