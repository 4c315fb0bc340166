//! The `@now`-family macros, computed from `RequestInfo::now` (in UTC) and
//! formatted the way dates are stored, so they compare correctly as text.

use rusqlite::types::Value;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Formats an instant as stored: `2026-01-02 15:04:05.000Z` (UTC, milliseconds).
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The value of macro `name` (without `@`) at `now`, or `None` if there is no such
/// macro. Dates are text; `@second` … `@year` are integers (`@weekday`: Sunday = 0).
pub fn macro_value(name: &str, now: OffsetDateTime) -> Option<Value> {
    let now = now.to_offset(UtcOffset::UTC);
    let date = now.date();
    let at =
        |d: Date, t: Time| Value::Text(format_datetime(PrimitiveDateTime::new(d, t).assume_utc()));
    let end_of_day = Time::from_hms_milli(23, 59, 59, 999).unwrap_or(Time::MIDNIGHT);
    let month_start = date.replace_day(1).unwrap_or(date);
    let year_start = Date::from_calendar_date(date.year(), Month::January, 1).unwrap_or(date);
    let year_end = Date::from_calendar_date(date.year(), Month::December, 31).unwrap_or(date);
    let month_end = month_start
        .replace_day(date.month().length(date.year()))
        .unwrap_or(date);
    Some(match name {
        "now" => Value::Text(format_datetime(now)),
        "second" => Value::Integer(now.second().into()),
        "minute" => Value::Integer(now.minute().into()),
        "hour" => Value::Integer(now.hour().into()),
        "weekday" => Value::Integer(now.weekday().number_days_from_sunday().into()),
        "day" => Value::Integer(now.day().into()),
        "month" => Value::Integer(u8::from(now.month()).into()),
        "year" => Value::Integer(now.year().into()),
        "yesterday" => Value::Text(format_datetime(now.saturating_sub(Duration::days(1)))),
        "tomorrow" => Value::Text(format_datetime(now.saturating_add(Duration::days(1)))),
        "todayStart" => at(date, Time::MIDNIGHT),
        "todayEnd" => at(date, end_of_day),
        "monthStart" => at(month_start, Time::MIDNIGHT),
        "monthEnd" => at(month_end, end_of_day),
        "yearStart" => at(year_start, Time::MIDNIGHT),
        "yearEnd" => at(year_end, end_of_day),
        _ => return None,
    })
}
