//! `program` sections (configuration.txt 3.7): commands the master starts
//! next to its workers and restarts on reload with `option
//! start-on-reload`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::Diags;
use super::model::{Config, ProgramCfg};

/// `program <name>`: opens a section. Returns its index.
pub fn open(
    cfg: &mut Config,
    diags: &mut Diags,
    w: &[String],
    file: &str,
    line: usize,
) -> Option<usize> {
    let Some(name) = w.get(1) else {
        diags.alert(file, line, "'program' expects an <id> argument.");
        return None;
    };
    if cfg.programs.iter().any(|p| &p.name == name) {
        diags.alert(
            file,
            line,
            format!("'program' section '{name}' has the same name as another one."),
        );
        return None;
    }
    cfg.programs.push(ProgramCfg {
        name: name.clone(),
        // 2.6 restarts programs on reload unless told otherwise.
        start_on_reload: true,
        file: file.to_string(),
        line,
        ..Default::default()
    });
    Some(cfg.programs.len() - 1)
}

/// One line of section `i`.
pub fn line(cfg: &mut Config, i: usize, diags: &mut Diags, w: &[String], file: &str, line: usize) {
    let Some(p) = cfg.programs.get_mut(i) else {
        return;
    };
    let kw = w.first().map_or("", String::as_str);
    match (kw, w.get(1).map(String::as_str)) {
        ("command", Some(_)) => p.command = w.iter().skip(1).cloned().collect(),
        ("command", None) => diags.alert(file, line, "'command' expects a command and arguments."),
        ("user", Some(u)) => p.user = Some(u.to_string()),
        ("group", Some(g)) => p.group = Some(g.to_string()),
        ("user" | "group", None) => diags.alert(file, line, format!("'{kw}' expects an argument.")),
        ("option", Some("start-on-reload")) => p.start_on_reload = true,
        ("no", Some("option")) if w.get(2).map(String::as_str) == Some("start-on-reload") => {
            p.start_on_reload = false
        }
        _ => diags.alert(
            file,
            line,
            format!("unknown keyword '{kw}' in 'program' section"),
        ),
    }
}

/// After parsing: a program needs a command.
pub fn check(cfg: &Config, diags: &mut Diags) {
    for p in &cfg.programs {
        if p.command.is_empty() {
            diags.alert(
                &p.file,
                p.line,
                format!("No command found for program '{}'.", p.name),
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use crate::cfg::parse::Parser;

    #[test]
    fn program_sections_parse_and_need_a_command() {
        let env = |_: &str| None;
        let mut p = Parser::new(&env);
        p.parse_text(
            "program p1\n command sleep 1000\n option start-on-reload\nprogram p2\n user nobody\n",
            "t.cfg",
        );
        super::check(&p.cfg, &mut p.diags);
        assert_eq!(p.cfg.programs.len(), 2);
        assert_eq!(p.cfg.programs[0].command, ["sleep", "1000"]);
        assert!(p.cfg.programs[0].start_on_reload);
        assert_eq!(p.cfg.programs[1].user.as_deref(), Some("nobody"));
        assert_eq!(p.diags.alerts(), 1);
    }
}
