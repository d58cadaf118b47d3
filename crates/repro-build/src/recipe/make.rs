//! Reading a project's Makefile without running it: a Makefile is arbitrary shell, so nothing in
//! it is executed. Variables (`=`, `:=`, `::=`, `?=`, `+=`), explicit and pattern rules
//! (`build-contract/%:` with `$*`), prerequisites, `\` continuations and the functions real
//! contract Makefiles use (`subst`, `patsubst`, `foreach`, `filter`, `filter-out`, `addprefix`,
//! `addsuffix`, `strip`, `notdir`) are expanded as GNU make would; `$(shell …)` is never run and
//! is reported. The expanded recipe lines of a rule and its prerequisites are then split into
//! commands, and the ones a build replays are recognised: `cargo build`, wabt `wasm-strip`,
//! binaryen `wasm-opt`. Every other command is reported by its program name.

use std::collections::{BTreeMap, BTreeSet};

/// A command of a recipe, as the build would replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `cargo [+toolchain] build ARGS`, run in `dir` (relative to the Makefile's directory).
    Cargo {
        dir: String,
        toolchain: Option<String>,
        args: Vec<String>,
    },
    /// `wasm-strip FILE` (wabt), `file` relative to the Makefile's directory.
    WasmStrip { file: String },
    /// `wasm-opt ARGS` (binaryen), run in `dir`.
    WasmOpt { dir: String, args: Vec<String> },
    /// Anything else: its program and the whole command, for the report.
    Other { program: String, command: String },
}

/// What a rule of the Makefile does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The rule asked for.
    pub rule: String,
    /// Its commands and those of its prerequisites, in the order make would run them.
    pub steps: Vec<Step>,
    /// What could not be read: functions never run (`shell`), unknown functions, directives.
    pub unsupported: Vec<String>,
}

impl Plan {
    /// Programs run by the plan that a build does not replay, by name (sorted, once each).
    pub fn unrecognised(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Other { program, .. } => Some(program.as_str()),
                _ => None,
            })
            .collect();
        set.into_iter().collect()
    }

    /// True when the plan builds with cargo and post-processes with wasm-strip or wasm-opt.
    pub fn builds_and_post_processes(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Cargo { .. }))
            && self
                .steps
                .iter()
                .any(|s| matches!(s, Step::WasmStrip { .. } | Step::WasmOpt { .. }))
    }
}

#[derive(Debug, Clone)]
struct Rule {
    targets: Vec<String>,
    prerequisites: String,
    recipe: Vec<String>,
}

/// A parsed Makefile.
#[derive(Debug, Clone, Default)]
pub struct Makefile {
    vars: BTreeMap<String, String>,
    rules: Vec<Rule>,
    unsupported: Vec<String>,
}

/// The rules a contract build is usually called, in order of preference.
const BUILD_RULES: &[&str] = &[
    "build-contracts",
    "build-contract",
    "build-all-contracts",
    "build-contracts-rs",
    "build",
    "all",
];

impl Makefile {
    /// Parses `text`. Never fails: what cannot be read is listed in the plans.
    pub fn parse(text: &str) -> Makefile {
        let mut mk = Makefile::default();
        let mut current: Option<usize> = None;
        for line in logical_lines(text) {
            if let Some(recipe) = line.strip_prefix('\t') {
                if let Some(i) = current {
                    mk.rules[i].recipe.push(recipe.trim().to_owned());
                }
                continue;
            }
            let code = strip_comment(&line);
            let trimmed = code.trim();
            if trimmed.is_empty() {
                continue;
            }
            let first = trimmed.split_whitespace().next().unwrap_or("");
            if matches!(
                first,
                "ifeq"
                    | "ifneq"
                    | "ifdef"
                    | "ifndef"
                    | "else"
                    | "endif"
                    | "define"
                    | "endef"
                    | "include"
                    | "-include"
                    | "export"
                    | "unexport"
                    | "override"
                    | "vpath"
            ) {
                mk.unsupported.push(format!("directive `{first}`"));
                current = None;
                continue;
            }
            if let Some((name, op, value)) = assignment(trimmed) {
                let value = value.trim().to_owned();
                // `:=` is expanded when used, like `=`: the two differ only when a variable is
                // reassigned after use, and a `$(shell …)` in an unused variable is then never
                // even looked at.
                match op {
                    "?=" => {
                        mk.vars.entry(name).or_insert(value);
                    }
                    "+=" => {
                        let v = mk.vars.entry(name).or_default();
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(&value);
                    }
                    _ => {
                        mk.vars.insert(name, value);
                    }
                }
                current = None;
                continue;
            }
            if let Some((targets, prerequisites)) = rule_head(trimmed) {
                let targets: Vec<String> = targets.split_whitespace().map(str::to_owned).collect();
                if targets.iter().all(|t| t.starts_with('.')) {
                    current = None; // .PHONY and other special targets
                    continue;
                }
                let (prerequisites, inline) = match prerequisites.split_once(';') {
                    Some((p, r)) => (p.to_owned(), Some(r.trim().to_owned())),
                    None => (prerequisites.to_owned(), None),
                };
                mk.rules.push(Rule {
                    targets,
                    prerequisites,
                    recipe: inline.into_iter().collect(),
                });
                current = Some(mk.rules.len() - 1);
            }
        }
        mk
    }

    /// The rule that builds the contracts: the first of the usual names whose plan runs `cargo
    /// build`, else the first rule (in file order) whose plan does.
    pub fn build_rule(&self) -> Option<String> {
        let builds = |name: &str| {
            self.plan(name)
                .steps
                .iter()
                .any(|s| matches!(s, Step::Cargo { .. }))
        };
        BUILD_RULES
            .iter()
            .map(|n| n.to_string())
            .filter(|n| self.find(n).is_some())
            .chain(
                self.rules
                    .iter()
                    .flat_map(|r| r.targets.iter().cloned())
                    .filter(|t| !t.contains('%')),
            )
            .find(|n| builds(n))
    }

    /// What `make TARGET` would run, without running anything.
    pub fn plan(&self, target: &str) -> Plan {
        let mut plan = Plan {
            rule: target.to_owned(),
            steps: Vec::new(),
            unsupported: self.unsupported.clone(),
        };
        let mut visited = BTreeSet::new();
        self.plan_into(target, &mut plan, &mut visited, 0);
        plan.unsupported.sort();
        plan.unsupported.dedup();
        plan
    }

    fn find(&self, target: &str) -> Option<(&Rule, String)> {
        if let Some(r) = self
            .rules
            .iter()
            .find(|r| r.targets.iter().any(|t| t == target))
        {
            return Some((r, String::new()));
        }
        self.rules.iter().find_map(|r| {
            r.targets.iter().find_map(|t| {
                let (pre, post) = t.split_once('%')?;
                let stem = target.strip_prefix(pre)?.strip_suffix(post)?;
                (!stem.is_empty()).then(|| (r, stem.to_owned()))
            })
        })
    }

    fn plan_into(&self, target: &str, plan: &mut Plan, visited: &mut BTreeSet<String>, depth: u32) {
        if depth > 32 || !visited.insert(target.to_owned()) {
            return;
        }
        let Some((rule, stem)) = self.find(target) else {
            return; // a file, or a target make would not know either
        };
        let mut auto = BTreeMap::new();
        auto.insert("@".to_owned(), target.to_owned());
        auto.insert("*".to_owned(), stem);
        let prerequisites = self.expand(&rule.prerequisites, &auto, &mut plan.unsupported);
        for p in prerequisites.split_whitespace() {
            self.plan_into(p, plan, visited, depth + 1);
        }
        for line in &rule.recipe {
            let expanded = self.expand(line, &auto, &mut plan.unsupported);
            plan.steps.extend(commands(&expanded));
        }
    }

    /// Expands variable references and functions in `text`.
    fn expand(
        &self,
        text: &str,
        auto: &BTreeMap<String, String>,
        unsupported: &mut Vec<String>,
    ) -> String {
        let mut out = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '$' {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            match chars.get(i + 1) {
                Some('$') => {
                    out.push('$');
                    i += 2;
                }
                Some(&open @ ('(' | '{')) => {
                    let close = if open == '(' { ')' } else { '}' };
                    let mut depth = 1;
                    let mut j = i + 2;
                    while j < chars.len() {
                        if chars[j] == open {
                            depth += 1;
                        } else if chars[j] == close {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        j += 1;
                    }
                    let inner: String = chars[i + 2..j.min(chars.len())].iter().collect();
                    out.push_str(&self.reference(&inner, auto, unsupported));
                    i = j + 1;
                }
                Some(c) => {
                    out.push_str(&self.reference(&c.to_string(), auto, unsupported));
                    i += 2;
                }
                None => i += 1,
            }
        }
        out
    }

    /// `$(inner)`: a function call or a variable.
    fn reference(
        &self,
        inner: &str,
        auto: &BTreeMap<String, String>,
        unsupported: &mut Vec<String>,
    ) -> String {
        if let Some((name, args)) = inner.split_once(|c: char| c.is_whitespace())
            && is_function(name)
        {
            return self.function(name, args.trim_start(), auto, unsupported);
        }
        let name = self.expand(inner, auto, unsupported);
        if let Some(v) = auto.get(&name) {
            return v.clone();
        }
        match self.vars.get(&name) {
            Some(v) => self.expand(v, auto, unsupported),
            None => String::new(), // undefined: empty, as in make
        }
    }

    fn function(
        &self,
        name: &str,
        args: &str,
        auto: &BTreeMap<String, String>,
        unsupported: &mut Vec<String>,
    ) -> String {
        let parts = split_args(args);
        let arg = |i: usize, unsupported: &mut Vec<String>| {
            parts
                .get(i)
                .map(|a| self.expand(a, auto, unsupported))
                .unwrap_or_default()
        };
        match name {
            "subst" => {
                let (from, to, text) = (
                    arg(0, unsupported),
                    arg(1, unsupported),
                    arg(2, unsupported),
                );
                if from.is_empty() {
                    text
                } else {
                    text.replace(&from, &to)
                }
            }
            "patsubst" => {
                let (pattern, replacement, text) = (
                    arg(0, unsupported),
                    arg(1, unsupported),
                    arg(2, unsupported),
                );
                let pattern = pattern.trim().to_owned();
                let replacement = replacement.trim().to_owned();
                text.split_whitespace()
                    .map(|w| patsubst(&pattern, &replacement, w))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            "foreach" => {
                let var = arg(0, unsupported).trim().to_owned();
                let list = arg(1, unsupported);
                let body = parts.get(2).cloned().unwrap_or_default();
                list.split_whitespace()
                    .map(|item| {
                        let mut auto = auto.clone();
                        auto.insert(var.clone(), item.to_owned());
                        self.expand(&body, &auto, unsupported)
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            "filter" | "filter-out" => {
                let patterns = arg(0, unsupported);
                let patterns: Vec<&str> = patterns.split_whitespace().collect();
                let text = arg(1, unsupported);
                let keep = name == "filter";
                text.split_whitespace()
                    .filter(|w| patterns.iter().any(|p| matches_pattern(p, w)) == keep)
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            "addprefix" | "addsuffix" => {
                // The affix keeps its spaces (`$(addprefix -p ,a b)` is `-p a -p b`).
                let affix = arg(0, unsupported);
                arg(1, unsupported)
                    .split_whitespace()
                    .map(|w| {
                        if name == "addprefix" {
                            format!("{affix}{w}")
                        } else {
                            format!("{w}{affix}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            "strip" => arg(0, unsupported)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            "notdir" => arg(0, unsupported)
                .split_whitespace()
                .map(|w| w.rsplit('/').next().unwrap_or(w))
                .collect::<Vec<_>>()
                .join(" "),
            "info" | "warning" => String::new(),
            other => {
                unsupported.push(format!("$({other} …) (never run)"));
                String::new()
            }
        }
    }
}

fn is_function(name: &str) -> bool {
    matches!(
        name,
        "subst"
            | "patsubst"
            | "foreach"
            | "filter"
            | "filter-out"
            | "addprefix"
            | "addsuffix"
            | "strip"
            | "notdir"
            | "info"
            | "warning"
            | "error"
            | "shell"
            | "wildcard"
            | "call"
            | "eval"
            | "if"
            | "or"
            | "and"
            | "word"
            | "words"
            | "dir"
            | "basename"
            | "suffix"
            | "sort"
            | "abspath"
            | "realpath"
            | "origin"
            | "value"
    )
}

/// Splits function arguments at top-level commas.
fn split_args(args: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0i32;
    for c in args.chars() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        out.last_mut().expect("never empty").push(c);
    }
    out
}

fn matches_pattern(pattern: &str, word: &str) -> bool {
    match pattern.split_once('%') {
        Some((pre, post)) => {
            word.len() >= pre.len() + post.len() && word.starts_with(pre) && word.ends_with(post)
        }
        None => pattern == word,
    }
}

fn patsubst(pattern: &str, replacement: &str, word: &str) -> String {
    match pattern.split_once('%') {
        Some((pre, post)) if matches_pattern(pattern, word) => {
            let stem = &word[pre.len()..word.len() - post.len()];
            replacement.replacen('%', stem, 1)
        }
        None if pattern == word => replacement.to_owned(),
        _ => word.to_owned(),
    }
}

/// Physical lines joined at `\` continuations (recipe lines keep their leading tab).
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = if pending.is_empty() {
            line.to_owned()
        } else {
            format!("{pending} {}", line.trim_start())
        };
        match line.strip_suffix('\\') {
            Some(head) => pending = head.to_owned(),
            None => {
                pending.clear();
                out.push(line);
            }
        }
    }
    if !pending.is_empty() {
        out.push(pending);
    }
    out
}

fn strip_comment(line: &str) -> String {
    match line.find('#') {
        Some(i) => line[..i].to_owned(),
        None => line.to_owned(),
    }
}

/// `NAME OP VALUE` for the assignment operators, if `line` is one.
fn assignment(line: &str) -> Option<(String, &'static str, String)> {
    for op in ["::=", ":=", "?=", "+=", "="] {
        if let Some(i) = line.find(op) {
            let name = line[..i].trim();
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            // `a: b=c` is a rule with a target-specific variable; the name must come first.
            if valid && !line[..i].contains(':') {
                return Some((name.to_owned(), op, line[i + op.len()..].to_owned()));
            }
        }
    }
    None
}

/// `TARGETS: PREREQUISITES` (a single colon; `::` rules are read the same way).
fn rule_head(line: &str) -> Option<(&str, &str)> {
    let i = line.find(':')?;
    let rest = line[i + 1..].trim_start_matches(':');
    Some((&line[..i], rest))
}

/// The commands of one expanded recipe line (as `make -n` prints it).
pub fn commands(line: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut dir = String::new();
    for command in split_commands(line) {
        let words = shell_words(&command);
        // Shell keywords around a command: `then X`, `do X`, `else X` run X; `fi`, `done` end.
        let words: Vec<String> = match words.first().map(String::as_str) {
            Some("then" | "do" | "else") => words[1..].to_vec(),
            Some("fi" | "done" | "esac") => continue,
            _ => words,
        };
        let Some(program) = words.first() else {
            continue;
        };
        let program = program.trim_start_matches(['@', '-', '+']);
        let program = program.rsplit('/').next().unwrap_or(program);
        match program {
            "" | "true" | ":" => {}
            "cd" => {
                let to = words.get(1).cloned().unwrap_or_default();
                dir = if to.starts_with('/') || dir.is_empty() {
                    to
                } else {
                    format!("{dir}/{to}")
                };
            }
            "cargo" => {
                let mut rest = words[1..].iter().cloned().peekable();
                let toolchain = rest
                    .next_if(|w| w.starts_with('+'))
                    .map(|w| w.trim_start_matches('+').to_owned());
                let sub = rest.next().unwrap_or_default();
                if sub == "build" {
                    steps.push(Step::Cargo {
                        dir: dir.clone(),
                        toolchain,
                        args: rest.collect(),
                    });
                } else {
                    steps.push(Step::Other {
                        program: format!("cargo {sub}"),
                        command: command.clone(),
                    });
                }
            }
            "wasm-strip" => {
                for file in words[1..].iter().filter(|w| !w.starts_with('-')) {
                    steps.push(Step::WasmStrip {
                        file: join(&dir, file),
                    });
                }
            }
            "wasm-opt" => steps.push(Step::WasmOpt {
                dir: dir.clone(),
                args: words[1..].to_vec(),
            }),
            other => steps.push(Step::Other {
                program: other.to_owned(),
                command: command.clone(),
            }),
        }
    }
    steps
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() || file.starts_with('/') {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

/// Splits a shell line at `;`, `&&` and `||`; of a pipeline `a | b` only `a` is kept (the rest
/// filters its output). Redirections are dropped.
fn split_commands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_pipe = false;
    let chars: Vec<char> = line.chars().collect();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            if !in_pipe {
                current.push(c);
            }
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        match (c, next) {
            ('\'' | '"', _) => {
                quote = Some(c);
                if !in_pipe {
                    current.push(c);
                }
            }
            (';', _) | ('&', Some('&')) | ('|', Some('|')) => {
                out.push(std::mem::take(&mut current));
                in_pipe = false;
                if c != ';' {
                    i += 1;
                }
            }
            ('|', _) => in_pipe = true,
            _ if !in_pipe => current.push(c),
            _ => {}
        }
        i += 1;
    }
    out.push(current);
    out.into_iter()
        .map(|c| strip_redirections(c.trim()))
        .filter(|c| !c.is_empty())
        .collect()
}

fn strip_redirections(command: &str) -> String {
    command
        .split_whitespace()
        .filter(|w| !(w.contains('>') || w.starts_with('<')))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whitespace-separated words with simple quoting.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() || any {
                    words.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            (None, c) => current.push(c),
        }
    }
    if !current.is_empty() || any {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_rules_bind_the_stem() {
        let mk = Makefile::parse(
            "T = target/wasm32-unknown-unknown/release\n\
             build-contract/%:\n\tcargo build --release -p $* --target wasm32-unknown-unknown\n\twasm-strip $(T)/$(subst -,_,$*).wasm\n\
             .PHONY: build-contracts\n\
             build-contracts: build-contract/a-b build-contract/c\n",
        );
        assert_eq!(mk.build_rule().as_deref(), Some("build-contracts"));
        let plan = mk.plan("build-contracts");
        assert_eq!(
            plan.steps,
            vec![
                Step::Cargo {
                    dir: String::new(),
                    toolchain: None,
                    args: "--release -p a-b --target wasm32-unknown-unknown"
                        .split(' ')
                        .map(str::to_owned)
                        .collect()
                },
                Step::WasmStrip {
                    file: "target/wasm32-unknown-unknown/release/a_b.wasm".into()
                },
                Step::Cargo {
                    dir: String::new(),
                    toolchain: None,
                    args: "--release -p c --target wasm32-unknown-unknown"
                        .split(' ')
                        .map(str::to_owned)
                        .collect()
                },
                Step::WasmStrip {
                    file: "target/wasm32-unknown-unknown/release/c.wasm".into()
                },
            ]
        );
    }

    #[test]
    fn shell_is_never_run_and_is_reported() {
        let mk = Makefile::parse("V := $(shell rm -rf /)\nbuild:\n\tcargo build $(V)\n");
        let plan = mk.plan("build");
        assert_eq!(plan.unsupported, ["$(shell …) (never run)"]);
        assert!(matches!(&plan.steps[0], Step::Cargo { args, .. } if args.is_empty()));
    }

    #[test]
    fn commands_split_at_separators_and_pipes() {
        let steps = commands(
            "cd a/b && cargo +nightly-2023-01-01 build --release; wasm-strip x.wasm 2>/dev/null | true; echo done",
        );
        assert_eq!(
            steps,
            vec![
                Step::Cargo {
                    dir: "a/b".into(),
                    toolchain: Some("nightly-2023-01-01".into()),
                    args: vec!["--release".into()]
                },
                Step::WasmStrip {
                    file: "a/b/x.wasm".into()
                },
                Step::Other {
                    program: "echo".into(),
                    command: "echo done".into()
                },
            ]
        );
    }

    #[test]
    fn functions_expand_as_make_does() {
        let mk = Makefile::parse(
            "L = a b c\nF = --release --locked\nX := $(filter-out --release, $(F)) $(addprefix -p ,$(L))\n",
        );
        assert_eq!(
            mk.expand("$(X)", &BTreeMap::new(), &mut Vec::new()),
            "--locked -p a -p b -p c"
        );
        let mk = Makefile::parse(
            "L = x-y z\nY = $(foreach W, $(L), [$(subst -,_,$(W))])\nall:\n\techo $(Y)\n",
        );
        let plan = mk.plan("all");
        assert!(
            matches!(&plan.steps[0], Step::Other { command, .. } if command == "echo [x_y] [z]")
        );
    }
}
