//! Who is logged in, as the fake host's files tell it: the account comes from the
//! personality's `/etc/passwd` (or is added to this session's view of `/etc/passwd` and
//! `/etc/group` when the planted credential names a user the files lack), so `id`,
//! `whoami`, the prompt, `$HOME` and `ls -l` all tell the same story.

use super::super::personality::ShellLook;

/// The logged-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
    /// Supplementary groups (gid, name), from `/etc/group` member lists.
    pub groups: Vec<(u32, String)>,
    /// The primary group's name.
    pub group: String,
}

impl Account {
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    /// `id`'s line.
    pub fn id_line(&self) -> String {
        let mut groups = vec![format!("{}({})", self.gid, self.group)];
        groups.extend(self.groups.iter().filter(|(g, _)| *g != self.gid).map(|(g, n)| format!("{g}({n})")));
        format!("uid={}({}) gid={}({}) groups={}", self.uid, self.name, self.gid, self.group, groups.join(","))
    }
}

/// `/etc/passwd` and `/etc/group` as this session sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounts {
    pub passwd: String,
    pub group: String,
}

/// A user name as it may appear on the fake host (never a path, never empty).
pub fn clean_name(user: &str) -> String {
    let clean: String = user.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).take(32).collect();
    let clean = clean.trim_start_matches('-').to_string();
    if clean.is_empty() {
        "user".to_string()
    } else {
        clean
    }
}

fn field(line: &str, i: usize) -> &str {
    line.split(':').nth(i).unwrap_or("")
}

/// The account `user` logs in as, and the files the session shows.
pub fn login(look: &ShellLook, user: &str) -> (Account, Accounts) {
    let name = clean_name(user);
    let mut passwd = look.files.get("/etc/passwd").cloned().unwrap_or_else(|| "root:x:0:0:root:/root:/bin/bash\n".to_string());
    let mut group = look.files.get("/etc/group").cloned().unwrap_or_else(|| "root:x:0:\n".to_string());
    if !passwd.ends_with('\n') {
        passwd.push('\n');
    }
    if !group.ends_with('\n') {
        group.push('\n');
    }
    let entry = passwd.lines().find(|l| field(l, 0) == name).map(str::to_string);
    let entry = match entry {
        Some(e) => e,
        None => {
            // A user the files do not have: the next free uid from 1000, as adduser picks.
            let used: Vec<u32> =
                passwd.lines().filter_map(|l| field(l, 2).parse().ok()).chain(group.lines().filter_map(|l| field(l, 2).parse().ok())).collect();
            let id = (1000..60000).find(|i| !used.contains(i)).unwrap_or(1999);
            let line = format!("{name}:x:{id}:{id}:,,,:/home/{name}:/bin/bash");
            passwd.push_str(&line);
            passwd.push('\n');
            group.push_str(&format!("{name}:x:{id}:\n"));
            line
        }
    };
    let uid = field(&entry, 2).parse().unwrap_or(1000);
    let gid = field(&entry, 3).parse().unwrap_or(uid);
    let group_name = group.lines().find(|l| field(l, 2).parse::<u32>().ok() == Some(gid)).map(|l| field(l, 0).to_string()).unwrap_or_else(|| name.clone());
    let groups = group
        .lines()
        .filter(|l| field(l, 3).split(',').any(|m| m == name))
        .filter_map(|l| Some((field(l, 2).parse().ok()?, field(l, 0).to_string())))
        .collect();
    let home = match field(&entry, 5) {
        "" => format!("/home/{name}"),
        h => h.to_string(),
    };
    let account = Account { name, uid, gid, home, shell: field(&entry, 6).to_string(), groups, group: group_name };
    (account, Accounts { passwd, group })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoy::ssh::SshPersonality;

    #[test]
    fn a_user_in_the_files_gets_their_ids_and_groups() {
        let look = SshPersonality::built_in("openssh-debian12").unwrap().unwrap().shell;
        let (a, files) = login(&look, "radadmin");
        assert_eq!(a.id_line(), "uid=1001(radadmin) gid=1001(radadmin) groups=1001(radadmin),27(sudo)");
        assert_eq!(a.home, "/home/radadmin");
        assert_eq!(files.passwd, look.files["/etc/passwd"]);
        let (root, _) = login(&look, "root");
        assert_eq!(root.id_line(), "uid=0(root) gid=0(root) groups=0(root)");
    }

    #[test]
    fn a_user_missing_from_the_files_is_added_to_this_sessions_view() {
        let look = SshPersonality::built_in("openssh-debian12").unwrap().unwrap().shell;
        let (a, files) = login(&look, "svc_pacs");
        assert!(a.uid >= 1000 && a.uid == a.gid);
        assert!(files.passwd.contains(&format!("svc_pacs:x:{}:{}:,,,:/home/svc_pacs:/bin/bash\n", a.uid, a.uid)));
        assert!(files.group.contains(&format!("svc_pacs:x:{}:\n", a.gid)));
        assert_eq!(a.id_line(), format!("uid={0}(svc_pacs) gid={0}(svc_pacs) groups={0}(svc_pacs)", a.uid));
        assert_eq!(clean_name("../../etc;rm -rf /"), "....etcrm-rf");
    }
}
