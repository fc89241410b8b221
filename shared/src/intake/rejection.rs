//! Refusals of bad input: an HTTP status, a stable machine-readable code, a message a person
//! can act on, and, for validation, every problem found, each naming its field.

use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where the problem is, as a path into the body: "alerts[2].user".
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub problems: Vec<Problem>,
}

impl Rejection {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Rejection {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Rejection::new(401, "unauthorized", message)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Rejection::new(400, "malformed_json", message)
    }

    /// 422 for a body that is JSON but not a valid alert; the message repeats the first problem
    /// so a person reading only the message still knows where to look.
    pub fn invalid(problems: Vec<Problem>) -> Self {
        let first = problems
            .first()
            .map_or_else(String::new, |p| format!("{}: {}", p.field, p.message));
        let more = match problems.len() {
            0 | 1 => String::new(),
            n => format!(
                " (and {} more problem{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        };
        Rejection {
            status: 422,
            code: "invalid_alert",
            message: format!("{first}{more}"),
            problems,
        }
    }

    pub fn to_json(&self) -> Value {
        let mut body = json!({ "error": self.code, "message": self.message });
        if !self.problems.is_empty() {
            body["problems"] = json!(self.problems);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_the_first_field_and_counts_the_rest() {
        let r = Rejection::invalid(vec![
            Problem::new("alerts[0].user", "is required"),
            Problem::new("alerts[3].title", "is required"),
        ]);
        assert_eq!(r.status, 422);
        assert_eq!(
            r.message,
            "alerts[0].user: is required (and 1 more problem)"
        );
        assert_eq!(r.to_json()["problems"][1]["field"], "alerts[3].title");
    }
}
