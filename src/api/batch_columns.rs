//! A CSV batch's columns: the header names canonical fields (`provider`, `order`,
//! `payment`, `ticket`, `venue`, `booking`, `event`, `amount`, `currency`, `reason`, and
//! `metadata.<key>`), and each row becomes the canonical create body those fields make, so
//! a row is checked exactly as a JSON item would be. An empty cell is an absent field;
//! `payment` and `ticket` may list several ids separated by `|`.

use serde_json::{Map, Value};

use crate::service::error::{FaultKind, FieldFault};

/// Separates several payment or ticket ids in one cell.
const LIST_SEPARATOR: char = '|';

/// A canonical field a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Provider,
    Order,
    Payment,
    Ticket,
    Venue,
    Booking,
    Event,
    Amount,
    Currency,
    Reason,
    Metadata(String),
}

const TARGET_COLUMNS: [Column; 6] = [
    Column::Order,
    Column::Payment,
    Column::Ticket,
    Column::Venue,
    Column::Booking,
    Column::Event,
];

impl Column {
    fn parse(name: &str) -> Option<Column> {
        Some(match name {
            "provider" => Column::Provider,
            "order" => Column::Order,
            "payment" => Column::Payment,
            "ticket" => Column::Ticket,
            "venue" => Column::Venue,
            "booking" => Column::Booking,
            "event" => Column::Event,
            "amount" => Column::Amount,
            "currency" => Column::Currency,
            "reason" => Column::Reason,
            other => Column::Metadata(other.strip_prefix("metadata.")?.to_string()),
        })
    }

    /// The column's name in the header.
    pub fn name(&self) -> String {
        match self {
            Column::Provider => "provider".into(),
            Column::Order => "order".into(),
            Column::Payment => "payment".into(),
            Column::Ticket => "ticket".into(),
            Column::Venue => "venue".into(),
            Column::Booking => "booking".into(),
            Column::Event => "event".into(),
            Column::Amount => "amount".into(),
            Column::Currency => "currency".into(),
            Column::Reason => "reason".into(),
            Column::Metadata(key) => format!("metadata.{key}"),
        }
    }

    /// The JSON pointer of the column's field within a create body.
    pub fn pointer(&self) -> String {
        match self {
            Column::Provider => "/provider".into(),
            Column::Order => "/target/order".into(),
            Column::Payment => "/target/payments".into(),
            Column::Ticket => "/target/tickets".into(),
            Column::Venue => "/target/venue".into(),
            Column::Booking => "/target/booking".into(),
            Column::Event => "/target/event".into(),
            Column::Amount => "/amount/value".into(),
            Column::Currency => "/amount/currency".into(),
            Column::Reason => "/reason".into(),
            Column::Metadata(key) => {
                format!("/metadata/{}", key.replace('~', "~0").replace('/', "~1"))
            }
        }
    }
}

/// A CSV's columns, in header order.
pub struct Columns(Vec<Column>);

fn header_fault(column: usize, name: &str, kind: FaultKind, detail: String) -> FieldFault {
    FieldFault {
        pointer: String::new(),
        kind,
        detail: format!("column {column} of the header: {detail}"),
        line: Some(1),
        column: Some(name.to_string()),
    }
}

impl Columns {
    /// The header's columns, or the first fault of the header: an unknown or repeated
    /// column, or a missing one (`provider`, a target column, `currency` beside `amount`).
    pub fn from_header(header: &csv_async::StringRecord) -> Result<Columns, FieldFault> {
        let mut columns = Vec::new();
        for (i, raw) in header.iter().enumerate() {
            let name = raw.trim_start_matches('\u{feff}').trim();
            let Some(column) = Column::parse(name) else {
                return Err(header_fault(
                    i + 1,
                    name,
                    FaultKind::UnknownColumn,
                    format!("`{name}` is not a canonical field (provider, order, payment, ticket, venue, booking, event, amount, currency, reason, metadata.<key>)"),
                ));
            };
            if let Column::Metadata(key) = &column {
                if key.is_empty() {
                    return Err(header_fault(
                        i + 1,
                        name,
                        FaultKind::UnknownColumn,
                        "a metadata column names its key: `metadata.<key>`".into(),
                    ));
                }
            }
            if columns.contains(&column) {
                return Err(header_fault(
                    i + 1,
                    name,
                    FaultKind::DuplicateColumn,
                    format!("`{name}` is named twice"),
                ));
            }
            columns.push(column);
        }
        let next = columns.len() + 1;
        let missing = |name: &str, detail: &str| {
            Err(header_fault(
                next,
                name,
                FaultKind::MissingColumn,
                detail.to_string(),
            ))
        };
        if !columns.contains(&Column::Provider) {
            return missing("provider", "the header must name a `provider` column");
        }
        if !TARGET_COLUMNS.iter().any(|c| columns.contains(c)) {
            return missing(
                "order",
                "the header must name at least one target column (order, payment, ticket, venue, booking, event)",
            );
        }
        match (
            columns.contains(&Column::Amount),
            columns.contains(&Column::Currency),
        ) {
            (true, false) => {
                return missing("currency", "an `amount` column needs a `currency` column")
            }
            (false, true) => {
                return missing("amount", "a `currency` column needs an `amount` column")
            }
            _ => {}
        }
        Ok(Columns(columns))
    }

    /// The header column holding the field at `pointer` (within one item), if any.
    pub fn column_of(&self, pointer: &str) -> Option<String> {
        if pointer == "/target" {
            // A target as a whole (duplicate, or not one the provider takes): its columns.
            let names: Vec<String> = self
                .0
                .iter()
                .filter(|c| TARGET_COLUMNS.contains(c))
                .map(Column::name)
                .collect();
            return (!names.is_empty()).then(|| names.join("+"));
        }
        let pointer = if pointer == "/amount" {
            "/amount/value"
        } else {
            pointer
        };
        self.0
            .iter()
            .find(|c| {
                let at = c.pointer();
                pointer == at || pointer.starts_with(&format!("{at}/"))
            })
            .map(Column::name)
    }

    /// A row as a create body, or the column at fault and why.
    pub fn item(&self, row: &csv_async::StringRecord) -> Result<Value, (Column, String)> {
        let mut item = Map::new();
        let mut target = Map::new();
        let mut amount = Map::new();
        let mut metadata = Map::new();
        for (column, cell) in self.0.iter().zip(row.iter()) {
            if let Some(c) = cell.chars().find(|c| c.is_control()) {
                return Err((
                    column.clone(),
                    format!(
                        "text may not contain control characters (found U+{:04X})",
                        c as u32
                    ),
                ));
            }
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let text = Value::String(cell.to_string());
            let list = || {
                Value::Array(
                    cell.split(LIST_SEPARATOR)
                        .map(|v| Value::String(v.trim().to_string()))
                        .collect(),
                )
            };
            match column {
                Column::Provider => drop(item.insert("provider".into(), text)),
                Column::Order => drop(target.insert("order".into(), text)),
                Column::Payment => drop(target.insert("payments".into(), list())),
                Column::Ticket => drop(target.insert("tickets".into(), list())),
                Column::Venue => drop(target.insert("venue".into(), text)),
                Column::Booking => drop(target.insert("booking".into(), text)),
                Column::Event => drop(target.insert("event".into(), text)),
                Column::Amount => drop(amount.insert("value".into(), text)),
                Column::Currency => drop(amount.insert("currency".into(), text)),
                Column::Reason => drop(item.insert("reason".into(), text)),
                Column::Metadata(key) => drop(metadata.insert(key.clone(), text)),
            }
        }
        match (
            amount.contains_key("value"),
            amount.contains_key("currency"),
        ) {
            (true, false) => return Err((Column::Currency, "an amount needs its currency".into())),
            (false, true) => return Err((Column::Amount, "a currency needs an amount".into())),
            (true, true) => drop(item.insert("amount".into(), Value::Object(amount))),
            (false, false) => {}
        }
        item.insert("target".into(), Value::Object(target));
        if !metadata.is_empty() {
            item.insert("metadata".into(), Value::Object(metadata));
        }
        Ok(Value::Object(item))
    }
}
