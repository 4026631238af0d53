//! `examples/` is what the lab's scenarios record (`record-examples`): one
//! directory per scenario and no other, each with its one-line DESCRIPTION
//! and at least one capture. Needs no root: it only reads the files.

use lab::scenarios::ALL;

#[test]
fn every_scenario_has_its_example_and_no_other_exists() {
    let examples = lab::workspace_root().join("examples");
    let mut names: Vec<&str> = ALL.iter().map(|s| s.name).collect();
    names.sort_unstable();
    let mut dirs: Vec<String> = std::fs::read_dir(&examples)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort_unstable();
    assert_eq!(dirs, names, "examples/ and lab::scenarios::ALL differ: re-record with `cargo run -p lab --bin record-examples`");
    for name in names {
        let dir = examples.join(name);
        let description = std::fs::read_to_string(dir.join("DESCRIPTION"))
            .unwrap_or_else(|e| panic!("examples/{name}/DESCRIPTION: {e}"));
        assert_eq!(
            description.trim_end().lines().count(),
            1,
            "examples/{name}/DESCRIPTION is one line"
        );
        let captures = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "pcap"))
            .count();
        assert!(captures >= 1, "examples/{name} holds no capture");
    }
}
