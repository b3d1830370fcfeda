//! The embedded DMN files are the files on disk, declare the version their name carries, and
//! each rule's outputs agree with its input entries (so evidence never names a threshold the
//! table does not test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use approval_policy::{POLICY_FILES, Variable, current, policy};
use sha2::{Digest, Sha256};

fn dmn_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflow/dmn")
}

#[test]
fn every_dmn_file_on_disk_is_embedded_byte_for_byte() {
    let mut on_disk: Vec<String> = std::fs::read_dir(dmn_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".dmn"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = POLICY_FILES
        .iter()
        .map(|f| f.file_name.to_owned())
        .collect();
    embedded.sort();
    assert_eq!(
        on_disk, embedded,
        "embed every workflow/dmn/*.dmn in POLICY_FILES"
    );
    for file in POLICY_FILES {
        let disk = std::fs::read_to_string(dmn_dir().join(file.file_name)).unwrap();
        assert_eq!(
            disk, file.content,
            "{} differs from its embedded copy",
            file.file_name
        );
    }
}

#[test]
fn each_file_declares_the_version_its_name_carries_and_is_pinned_by_its_hash() {
    for file in POLICY_FILES {
        let version = file
            .file_name
            .strip_prefix("quote-approval-policy-v")
            .and_then(|rest| rest.strip_suffix(".dmn"))
            .unwrap();
        let loaded = policy(version).unwrap();
        assert_eq!(loaded.reference().version, version);
        assert_eq!(loaded.reference().policy_id, "quote-approval-policy");
        assert_eq!(
            loaded.reference().sha256,
            hex::encode(Sha256::digest(file.content.as_bytes()))
        );
    }
    assert_eq!(current().unwrap().reference().version, "2");
    assert!(policy("1").is_err());
}

fn text<'a>(node: roxmltree::Node<'a, 'a>) -> &'a str {
    node.children()
        .find(|n| n.has_tag_name("text"))
        .and_then(|n| n.text())
        .unwrap_or("")
        .trim()
}

#[test]
fn each_rule_reports_the_input_and_threshold_it_tests() {
    for file in POLICY_FILES {
        let doc = roxmltree::Document::parse(file.content).unwrap();
        let table = doc
            .descendants()
            .find(|n| n.has_tag_name("decisionTable"))
            .unwrap();
        assert!(matches!(
            table.attribute("hitPolicy"),
            Some("COLLECT" | "RULE ORDER")
        ));
        let inputs: Vec<&str> = table
            .children()
            .filter(|n| n.has_tag_name("input"))
            .map(|n| {
                text(
                    n.children()
                        .find(|c| c.has_tag_name("inputExpression"))
                        .unwrap(),
                )
            })
            .collect();
        let outputs: Vec<&str> = table
            .children()
            .filter(|n| n.has_tag_name("output"))
            .map(|n| n.attribute("name").unwrap())
            .collect();
        assert_eq!(outputs, ["ruleId", "level", "input", "value", "threshold"]);
        let rules: Vec<_> = table
            .children()
            .filter(|n| n.has_tag_name("rule"))
            .collect();
        assert!(!rules.is_empty());
        for rule in rules {
            let id = rule.attribute("id").unwrap();
            let description = rule.children().find(|n| n.has_tag_name("description"));
            assert!(description.is_some(), "{id} has no description");
            let tests: Vec<(usize, &str)> = rule
                .children()
                .filter(|n| n.has_tag_name("inputEntry"))
                .map(text)
                .enumerate()
                .filter(|(_, t)| *t != "-")
                .collect();
            let [(column, test)] = tests.as_slice() else {
                panic!("{id} must test exactly one input");
            };
            let out: Vec<&str> = rule
                .children()
                .filter(|n| n.has_tag_name("outputEntry"))
                .map(text)
                .collect();
            let threshold = test.trim_start_matches(['<', '>', '=']).trim();
            assert_eq!(out[0], format!("\"{id}\""), "{id}: ruleId output");
            assert!(
                ["\"MANAGER\"", "\"DIRECTOR\"", "\"FINANCE\""].contains(&out[1]),
                "{id}"
            );
            assert_eq!(
                out[2],
                format!("\"{}\"", inputs[*column]),
                "{id}: input output"
            );
            assert_eq!(out[3], inputs[*column], "{id}: value output");
            assert_eq!(out[4], threshold, "{id}: threshold output");
            assert!(Variable::parse(inputs[*column]).is_some(), "{id}");
        }
    }
}

#[test]
fn the_table_reads_exactly_the_policy_variables() {
    for file in POLICY_FILES {
        let doc = roxmltree::Document::parse(file.content).unwrap();
        let mut names: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("inputData"))
            .map(|n| n.attribute("name").unwrap())
            .collect();
        names.sort();
        let mut expected: Vec<&str> = Variable::ALL.iter().map(|v| v.name()).collect();
        expected.sort();
        assert_eq!(names, expected);
    }
}
