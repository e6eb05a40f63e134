//! Network namespaces. All `setns(2)` / `unshare(2)` calls happen here:
//! `unshare` only on threads made for the purpose, `setns` there, in a
//! forked child before `exec`, or around a closure in [`Netns::run`], which
//! puts the calling thread back where it was before returning (or aborts the
//! process if it cannot). A socket created by a closure passed to
//! [`Netns::run`] lives in that namespace, and the namespace mtulab was
//! started in is never modified.
//!
//! A namespace is made visible to `ip netns` the way iproute2 does it: a bind
//! mount of the thread's `/proc/thread-self/ns/net` on `/run/netns/NAME`.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

/// Where iproute2 (and so `ip netns exec`) looks for named namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("create namespace {name}: {step}: {source}")]
    Create {
        name: String,
        step: &'static str,
        source: io::Error,
    },
    #[error("open namespace {name}: {source}")]
    Open { name: String, source: io::Error },
    #[error("enter namespace {name}: {source}")]
    Enter { name: String, source: io::Error },
    #[error("a thread running in namespace {name} panicked")]
    Panicked { name: String },
}

/// A named network namespace held open by a file descriptor.
///
/// Dropping it does not remove it: a [`crate::lab::Lab`] decides that, via
/// [`Netns::remove`], so a kept lab can outlive the process.
#[derive(Debug)]
pub struct Netns {
    name: String,
    path: PathBuf,
    fd: OwnedFd,
}

fn io_err(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Puts the calling thread back in the namespace it came from
/// ([`Netns::run`]). A thread that cannot go back must not go on in the
/// wrong namespace: the process aborts.
struct Back(File);

impl Drop for Back {
    fn drop(&mut self) {
        if let Err(e) = setns(self.0.as_fd(), CloneFlags::CLONE_NEWNET) {
            eprintln!("mtulab: cannot return a thread to its namespace: {e}");
            std::process::abort();
        }
    }
}

/// Make /run/netns a shared mount point, as `ip netns add` does, so mounts
/// under it propagate into mount namespaces `ip netns exec` creates.
fn prepare_run_dir() -> io::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = (|| {
            std::fs::create_dir_all(NETNS_RUN_DIR)?;
            let dir = Path::new(NETNS_RUN_DIR);
            let shared = || {
                mount(
                    None::<&str>,
                    dir,
                    None::<&str>,
                    MsFlags::MS_SHARED | MsFlags::MS_REC,
                    None::<&str>,
                )
            };
            match shared() {
                Ok(()) => Ok(()),
                Err(nix::Error::EINVAL) => {
                    // Not a mount point yet: bind it onto itself first.
                    mount(
                        Some(dir),
                        dir,
                        None::<&str>,
                        MsFlags::MS_BIND | MsFlags::MS_REC,
                        None::<&str>,
                    )
                    .map_err(io_err)?;
                    shared().map_err(io_err)
                }
                Err(e) => Err(io_err(e)),
            }
        })();
    });
    result
}

/// Run `f` on a thread of its own inside a new, unnamed network namespace
/// that nobody else can see and that vanishes when the thread ends
/// (nothing to remove, nothing for the reaper): what a fresh node has
/// (`/proc/sys/net`), a tool's dry run (`nft -c`) that must not touch
/// the caller's namespace, or whether a device kind can be created here. A child spawned by `f` starts in it.
pub fn in_scratch<R, F>(f: F) -> io::Result<R>
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| -> io::Result<R> {
            unshare(CloneFlags::CLONE_NEWNET).map_err(io_err)?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("a scratch-namespace thread panicked")))
    })
}

impl Netns {
    /// Create a new namespace named `name` (visible to `ip netns`) and run
    /// `setup` on the creating thread, inside it, before returning. `setup` is
    /// where sysctls are written and sockets (netlink) are opened.
    pub fn create_with<R, F>(name: &str, setup: F) -> Result<(Netns, R), NetnsError>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let err = |step: &'static str| {
            move |source: io::Error| NetnsError::Create {
                name: name.to_string(),
                step,
                source,
            }
        };
        prepare_run_dir().map_err(err("prepare /run/netns"))?;
        let path = Path::new(NETNS_RUN_DIR).join(name);
        // O_EXCL: a name collision is an error, never a takeover.
        File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(err("create mount point"))?;
        let made = std::thread::scope(|s| {
            s.spawn(|| -> io::Result<R> {
                unshare(CloneFlags::CLONE_NEWNET).map_err(io_err)?;
                mount(
                    Some("/proc/thread-self/ns/net"),
                    &path,
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )
                .map_err(io_err)?;
                Ok(setup())
            })
            .join()
        });
        let r = match made {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let _ = umount2(&path, MntFlags::MNT_DETACH);
                let _ = std::fs::remove_file(&path);
                return Err(err("unshare and bind mount")(e));
            }
            Err(_) => {
                let _ = umount2(&path, MntFlags::MNT_DETACH);
                let _ = std::fs::remove_file(&path);
                return Err(NetnsError::Panicked {
                    name: name.to_string(),
                });
            }
        };
        let fd = File::open(&path).map_err(err("open"))?.into();
        Ok((
            Netns {
                name: name.to_string(),
                path,
                fd,
            },
            r,
        ))
    }

    /// Open an existing named namespace (a kept lab's node).
    pub fn open(name: &str) -> Result<Netns, NetnsError> {
        let path = Path::new(NETNS_RUN_DIR).join(name);
        let fd = File::open(&path)
            .map_err(|source| NetnsError::Open {
                name: name.to_string(),
                source,
            })?
            .into();
        Ok(Netns {
            name: name.to_string(),
            path,
            fd,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Run `f` with the calling thread inside this namespace, then put the
    /// thread back where it was (also when `f` panics: the panic becomes
    /// [`NetnsError::Panicked`]). Sockets `f` creates stay in the namespace
    /// whatever thread later uses them; threads and children `f` starts
    /// begin in it. No thread is made: `setns(2)` there and back costs a
    /// few microseconds, a thread ~50 (measured on the property tests,
    /// which call this hundreds of times per case).
    pub fn run<R, F>(&self, f: F) -> Result<R, NetnsError>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let enter_err = |source| NetnsError::Enter {
            name: self.name.clone(),
            source,
        };
        let home = File::open("/proc/thread-self/ns/net").map_err(enter_err)?;
        setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| enter_err(io_err(e)))?;
        let back = Back(home);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        drop(back);
        r.map_err(|_| NetnsError::Panicked {
            name: self.name.clone(),
        })
    }

    /// Start `cmd` inside this namespace: the calling thread enters it for
    /// the spawn only (the child inherits the thread's namespace) and comes
    /// back. Unlike [`Netns::command`] nothing runs between fork and exec,
    /// so std spawns through posix_spawn (vfork): no copy of a large test
    /// process's page tables per child. `cmd` must not have a pre_exec hook
    /// of its own for that.
    pub fn spawn(&self, cmd: &mut Command) -> io::Result<std::process::Child> {
        self.run(|| cmd.spawn())
            .map_err(|e| io::Error::other(e.to_string()))?
    }

    /// [`Netns::spawn`] with stdout and stderr captured (as
    /// [`Command::output`] does), then wait for the child.
    pub fn output(&self, cmd: &mut Command) -> io::Result<std::process::Output> {
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        self.spawn(cmd)?.wait_with_output()
    }

    /// A command that will run inside this namespace: the child enters it
    /// between fork and exec; the caller is untouched.
    pub fn command<S: AsRef<OsStr>>(&self, program: S) -> Command {
        let mut cmd = Command::new(program);
        let fd = self.fd.as_raw_fd();
        // SAFETY: setns is async-signal-safe; the fd stays open for the
        // lifetime of `self`, which the caller keeps while spawning.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd
    }

    /// Remove the name (unmount and unlink). The kernel frees the namespace
    /// once the last socket, process or descriptor referring to it is gone.
    /// An already removed namespace is not an error.
    pub fn remove(self) -> io::Result<()> {
        remove_named(&self.path)
    }
}

/// Unmount and unlink a namespace mount point; "already gone" is success.
pub fn remove_named(path: &Path) -> io::Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => {}
        Err(e) => return Err(io_err(e)),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether lab namespace `name` (`mtulab-NAME-PID-SEQ-NODE`) was made by
/// process `pid`: `-PID-` followed by the sequence number and `-`. A bare
/// `-PID-` is not enough: pids wrap round to small numbers, and a test's
/// child 354 then "owned" the test process's lab number 354
/// (`mtulab-vxlan_1450-25294-354-client`; seen once in a full run).
pub fn made_by(name: &str, pid: u32) -> bool {
    let needle = format!("-{pid}-");
    name.match_indices(&needle).any(|(i, _)| {
        let rest = &name[i + needle.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with('-')
    })
}

/// Names of every namespace in /run/netns starting with `prefix`.
pub fn list_named(prefix: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(NETNS_RUN_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::made_by;

    #[test]
    fn made_by_reads_the_pid_field() {
        assert!(made_by("mtulab-vxlan_1450-25294-354-client", 25294));
        assert!(!made_by("mtulab-vxlan_1450-25294-354-client", 354));
        assert!(made_by("mtulab-a-b-354-0-r-1", 354));
        assert!(!made_by("mtulab-a-3540-1-r", 354));
        assert!(!made_by("mtulab-a-354-r", 354));
    }
}
