//! `segq repl` in a pseudo-terminal, driven as a person would type: the
//! prompt, Tab completion, multi-line input, Ctrl-C, Ctrl-D, history
//! across sessions, vi keys and colours.

use rexpect::process::WaitStatus;
use rexpect::session::{spawn_with_options, Options, PtySession};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_segq");
const TIMEOUT_MS: u64 = 20_000;

fn fixture() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("segq-repl-pty")
            .tempdir()
            .unwrap()
            .keep();
        let data = dir.join("data");
        let status = Command::new(BIN)
            .args([
                "gen",
                "--contacts",
                "2000",
                "--seed",
                "7",
                "--today",
                "2026-12-01",
                "--out",
            ])
            .arg(&data)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        data
    })
}

/// `segq count` of a query on the fixture.
fn count(query: &str) -> String {
    let out = Command::new(BIN)
        .args(["count", "--now", "2026-12-01", "--data"])
        .arg(fixture())
        .arg(query)
        .output()
        .unwrap();
    let n: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out} contacts")
}

/// Starts the REPL in a terminal with `home` as its home; `color` leaves
/// NO_COLOR unset.
fn start(home: &Path, color: bool) -> PtySession {
    let mut cmd = Command::new(BIN);
    cmd.args(["repl", "--now", "2026-12-01", "--data"])
        .arg(fixture())
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("TERM", "xterm")
        .env_remove("SEGQ_HISTORY");
    if color {
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    let mut p = spawn_with_options(cmd, Options::new().timeout_ms(Some(TIMEOUT_MS))).unwrap();
    // coloured, the prompt is `ESC[1;32msegq>ESC[0m `
    p.exp_string("segq>").unwrap();
    p
}

fn type_keys(p: &mut PtySession, keys: &str) {
    p.send(keys).unwrap();
    p.flush().unwrap();
}

/// Types a line and presses Enter.
fn enter(p: &mut PtySession, line: &str) {
    type_keys(p, &format!("{line}\r"));
}

/// Leaves with Ctrl-D on an empty line and checks the exit status.
fn leave(mut p: PtySession) {
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let status = p.process_mut().wait().unwrap();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
}

#[test]
fn prompt_appears_with_a_banner() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["repl", "--now", "2026-12-01", "--data"])
        .arg(fixture())
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut p = spawn_with_options(cmd, Options::new().timeout_ms(Some(TIMEOUT_MS))).unwrap();
    let before = p.exp_string("segq> ").unwrap();
    assert!(
        before.contains("(2,000 contacts, 80 accounts); now is 2026-12-01"),
        "{before:?}"
    );
    assert!(before.contains(".help"), "{before:?}");
    leave(p);
}

#[test]
fn tab_completes_a_field() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false);
    type_keys(&mut p, "rol\t");
    p.exp_string("role ").unwrap();
    // the completed line runs as `role = blocker`
    enter(&mut p, "= blocker");
    p.exp_string(&count("role = blocker")).unwrap();
    p.exp_string("segq> ").unwrap();
    leave(p);
}

#[test]
fn tab_offers_enum_values_in_a_list() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false);
    type_keys(&mut p, "role in [\t");
    let listed = p.exp_string("blocker").unwrap();
    for value in [
        "decision_maker",
        "champion",
        "influencer",
        "evaluator",
        "end_user",
    ] {
        assert!(listed.contains(value), "{value} not offered: {listed:?}");
    }
    // one more letter and Tab completes the value
    type_keys(&mut p, "ev\t");
    p.exp_string("evaluator").unwrap();
    enter(&mut p, "]");
    p.exp_string(&count("role in [evaluator]")).unwrap();
    leave(p);
}

#[test]
fn a_multi_line_query_continues_and_runs() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false);
    enter(&mut p, ".limit 0");
    p.exp_string("limit: 0").unwrap();
    p.exp_string("segq> ").unwrap();
    // an open bracket, then a trailing `and`, keep the entry going
    enter(&mut p, "role in [champion,");
    enter(&mut p, "blocker] and");
    enter(&mut p, "replies_30d >= 1");
    p.exp_string(&count("role in [champion, blocker] and replies_30d >= 1"))
        .unwrap();
    p.exp_string("segq> ").unwrap();
    leave(p);
}

#[test]
fn ctrl_c_cancels_the_line_and_keeps_the_session() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false);
    type_keys(&mut p, "role = x and (");
    p.send_control('c').unwrap();
    p.exp_string("segq> ").unwrap();
    enter(&mut p, ".limit 0");
    p.exp_string("limit: 0").unwrap();
    enter(&mut p, "role = champion");
    p.exp_string(&count("role = champion")).unwrap();
    leave(p);
}

#[test]
fn ctrl_d_exits_and_history_survives_the_session() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false);
    enter(&mut p, ".limit 0");
    p.exp_string("limit: 0").unwrap();
    enter(&mut p, "role = blocker");
    p.exp_string(&count("role = blocker")).unwrap();
    // a line starting with a space is not kept
    enter(&mut p, " role = champion");
    p.exp_string(&count("role = champion")).unwrap();
    leave(p);
    let history = std::fs::read_to_string(home.path().join("state/segq/history")).unwrap();
    assert!(history.contains("role = blocker"), "{history:?}");
    assert!(!history.contains("champion"), "{history:?}");

    // Up recalls the last entry in a new session
    let mut p = start(home.path(), false);
    enter(&mut p, ".limit 0");
    p.exp_string("limit: 0").unwrap();
    p.exp_string("segq> ").unwrap();
    type_keys(&mut p, "\x1b[A\x1b[A\r");
    p.exp_string(&count("role = blocker")).unwrap();
    p.exp_string("segq> ").unwrap();
    // Ctrl-R finds it by a word in the middle
    p.send_control('r').unwrap();
    type_keys(&mut p, "blo");
    p.exp_string("role = blocker").unwrap();
    type_keys(&mut p, "\r");
    p.exp_string(&count("role = blocker")).unwrap();
    leave(p);
}

#[test]
fn vi_keys_edit_the_line() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false);
    enter(&mut p, ".limit 0");
    p.exp_string("limit: 0").unwrap();
    enter(&mut p, ".keys vi");
    p.exp_string("keys: vi").unwrap();
    p.exp_string("segq> ").unwrap();
    // insert mode; Esc, `0` to the start, `x` deletes the stray `z`
    type_keys(&mut p, "zrole = blocker\x1b");
    std::thread::sleep(std::time::Duration::from_millis(100));
    type_keys(&mut p, "0x\r");
    p.exp_string(&count("role = blocker")).unwrap();
    leave(p);
}

#[test]
fn the_startup_file_can_choose_vi_keys() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config/segq");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("replrc"), "# vi, please\n.keys vi\n.limit 0\n").unwrap();
    let mut p = start(home.path(), false);
    type_keys(&mut p, "zrole = blocker\x1b");
    std::thread::sleep(std::time::Duration::from_millis(100));
    type_keys(&mut p, "0x\r");
    // quiet: the settings it made printed nothing, and `.limit 0` holds
    let shown = p.exp_string(&count("role = blocker")).unwrap();
    assert!(
        !shown.contains("keys: vi") && !shown.contains('│'),
        "{shown:?}"
    );
    leave(p);
}

#[test]
fn the_line_is_coloured_on_a_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), true);
    type_keys(&mut p, "role = champion and regio");
    // a known field in cyan, a keyword in bold blue, a value in green,
    // an unknown field underlined in red
    let shown = p.exp_string("\x1b[4;31mregio\x1b[0m").unwrap();
    let last = &shown[shown.rfind("\x1b[36mrole\x1b[0m").expect("role in cyan")..];
    assert!(last.contains("\x1b[32mchampion\x1b[0m"), "{last:?}");
    assert!(last.contains("\x1b[1;34mand\x1b[0m"), "{last:?}");
    // the prompt is coloured too
    assert!(shown.contains("\x1b[1;32msegq>\x1b[0m"), "{shown:?}");
    leave_with_ctrl_c(p);
}

/// Cancels the line, then leaves.
fn leave_with_ctrl_c(mut p: PtySession) {
    p.send_control('c').unwrap();
    p.exp_string("segq>").unwrap();
    leave(p);
}
