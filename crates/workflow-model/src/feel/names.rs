//! Builds the parsing scope dsntk needs to split names correctly.
//!
//! FEEL allows spaces and `+ - * / . '` inside names, so the dsntk parser only splits `x - 1`
//! or `x and y` into operators when `x` is a name it already knows; with an empty scope the
//! whole text becomes one name (`"x - 1"`). Zeebe variables are JSON keys referenced as plain
//! identifiers, so every identifier that occurs in the expression is declared as a name before
//! parsing. Multi-word built-in function names (`upper case`, `string length`) are declared
//! whole so the longest match still wins; the temporal constructors (`date`, `time`,
//! `duration`, `date and time`) are left out because the lexer only recognises them as
//! literals when they are not scope names.

use dsntk_feel::bif::is_built_in_function_name;
use dsntk_feel::context::FeelContext;
use dsntk_feel::values::Value;
use dsntk_feel::{FeelScope, Name};

/// FEEL keywords; declaring them as names would hide the operators they stand for.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "in",
    "between",
    "instance",
    "of",
    "if",
    "then",
    "else",
    "for",
    "return",
    "some",
    "every",
    "satisfies",
    "true",
    "false",
    "null",
    "function",
    "external",
    "item",
];

/// Temporal constructors that the lexer turns into literals only when they are not scope names.
const TEMPORAL: &[&str] = &["date", "time", "duration", "date and time"];

/// Returns a scope declaring every identifier of `source` (see the module documentation).
pub(crate) fn parsing_scope(source: &str) -> FeelScope {
    let words = identifier_runs(source);
    let mut context = FeelContext::default();
    for run in &words {
        for (start, word) in run.iter().enumerate() {
            if !KEYWORDS.contains(&word.as_str()) && !TEMPORAL.contains(&word.as_str()) {
                context.set_entry(&Name::from(word.as_str()), Value::Null(None));
            }
            // multi-word built-ins have at most four words ("years and months duration")
            for len in 2..=4 {
                let Some(parts) = run.get(start..start + len) else {
                    break;
                };
                let joined = parts.join(" ");
                if is_built_in_function_name(&joined) && !TEMPORAL.contains(&joined.as_str()) {
                    context.set_entry(&Name::from(joined.as_str()), Value::Null(None));
                }
            }
        }
    }
    FeelScope::from(context)
}

/// Splits `source` into runs of identifiers separated only by whitespace, skipping string
/// literals, comments and numbers.
fn identifier_runs(source: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = source.chars().collect();
    let mut runs: Vec<Vec<String>> = vec![Vec::new()];
    let mut i = 0;
    let break_run = |runs: &mut Vec<Vec<String>>| {
        if runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
        }
    };
    while let Some(&c) = chars.get(i) {
        if c == '"' {
            break_run(&mut runs);
            i += 1;
            while let Some(&s) = chars.get(i) {
                i += if s == '\\' { 2 } else { 1 };
                if s == '"' {
                    break;
                }
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            break_run(&mut runs);
            while chars.get(i).is_some_and(|&s| s != '\n') {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            break_run(&mut runs);
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if is_name_start(c) {
            let start = i;
            while chars.get(i).is_some_and(|&s| is_name_part(s)) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if let Some(run) = runs.last_mut() {
                run.push(word);
            }
        } else if c.is_ascii_digit() {
            break_run(&mut runs);
            while chars
                .get(i)
                .is_some_and(|&s| s.is_ascii_alphanumeric() || s == '.')
            {
                i += 1;
            }
        } else {
            if !c.is_whitespace() {
                break_run(&mut runs);
            }
            i += 1;
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '?'
}

fn is_name_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '?'
}

#[cfg(test)]
mod tests {
    use super::identifier_runs;

    #[test]
    fn runs_skip_strings_numbers_and_comments() {
        let runs = identifier_runs(
            r#"upper case(name) + "a \" b" // c d
            + x1 /* y */ and 12e3"#,
        );
        assert_eq!(
            runs,
            vec![
                vec!["upper".to_owned(), "case".to_owned()],
                vec!["name".to_owned()],
                vec!["x1".to_owned()],
                vec!["and".to_owned()],
            ]
        );
    }
}
