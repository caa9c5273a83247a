//! What a prompt must undo when mfaenv is stopped by a signal while it
//! asks: the terminal's mode (put back exactly as it was) and a dialog's
//! process group (killed). While anything is held, SIGINT, SIGTERM, SIGHUP
//! and SIGQUIT run a handler that undoes both, then lets the signal do what
//! it would have done (the default action: mfaenv ends with that signal, so
//! the shell sees 130 after Ctrl-C). A signal the caller ignores (the hook's
//! shells block Ctrl-C during their eval) stays ignored.
//!
//! The handler only touches atomics and a termios written before its fd is
//! published, and calls only async-signal-safe functions.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Mutex;

const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// The terminal whose mode is to be restored (-1: none).
static TTY_FD: AtomicI32 = AtomicI32::new(-1);
/// The process group to kill (0: none).
static GROUP: AtomicI32 = AtomicI32::new(0);
/// A program is being started: its group is not known yet.
static SPAWNING: AtomicBool = AtomicBool::new(false);
/// A signal that came meanwhile (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);

/// The saved mode; written only while `TTY_FD` is -1 (under `STATE`),
/// read by the handler only after it saw `TTY_FD` set.
struct Saved(UnsafeCell<Option<libc::termios>>);
// SAFETY: access is ordered through TTY_FD as described above.
unsafe impl Sync for Saved {}
static SAVED: Saved = Saved(UnsafeCell::new(None));

/// How many holds are alive, and the actions our handler replaced.
struct State {
    holds: usize,
    previous: Vec<(libc::c_int, libc::sigaction)>,
}
static STATE: Mutex<State> = Mutex::new(State {
    holds: 0,
    previous: Vec::new(),
});

/// Undoes its part when dropped; the handler stays installed while any lives.
pub struct Hold {
    what: What,
}

enum What {
    Terminal,
    Group,
}

/// From now on a signal restores `saved` on terminal `fd` before mfaenv ends.
pub fn restore_terminal_on_signal(fd: libc::c_int, saved: libc::termios) -> Hold {
    let mut state = lock();
    if TTY_FD.load(Ordering::SeqCst) == -1 {
        // SAFETY: no fd is published, so the handler does not read SAVED.
        unsafe { *SAVED.0.get() = Some(saved) };
        TTY_FD.store(fd, Ordering::SeqCst);
    }
    acquire(&mut state);
    Hold {
        what: What::Terminal,
    }
}

/// While a program is being started: a signal that arrives before its
/// process group is known is kept (the handler returns) and acted on by
/// [`Hold::started`] or the drop, so the new group cannot escape the kill.
/// The signal may land on any thread, so blocking it on this one would not do.
pub fn before_spawn() -> Hold {
    let mut state = lock();
    SPAWNING.store(true, Ordering::SeqCst);
    acquire(&mut state);
    Hold { what: What::Group }
}

impl Hold {
    /// From now on a signal kills process group `group` before mfaenv ends
    /// (also one that came while it was being started).
    pub fn started(&self, group: libc::pid_t) {
        GROUP.store(group, Ordering::SeqCst);
        SPAWNING.store(false, Ordering::SeqCst);
        deliver_pending();
    }
}

/// A signal kept while a program was being started: acted on now.
fn deliver_pending() {
    let signal = PENDING.swap(0, Ordering::SeqCst);
    if signal != 0 {
        on_signal(signal);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut state = lock();
        match self.what {
            What::Terminal => TTY_FD.store(-1, Ordering::SeqCst),
            What::Group => {
                SPAWNING.store(false, Ordering::SeqCst);
                // Not started after all: a signal kept meanwhile ends mfaenv now.
                deliver_pending();
                GROUP.store(0, Ordering::SeqCst);
            }
        }
        state.holds -= 1;
        if state.holds == 0 {
            for (signal, action) in state.previous.drain(..) {
                // SAFETY: puts back the action sigaction gave us.
                unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) };
            }
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

fn acquire(state: &mut State) {
    state.holds += 1;
    if state.holds > 1 {
        return;
    }
    for signal in SIGNALS {
        // SAFETY: plain sigaction calls on zeroed structs we own.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) == 0 {
                state.previous.push((signal, old));
            }
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    if SPAWNING.load(Ordering::SeqCst) {
        PENDING.store(signal, Ordering::SeqCst);
        return;
    }
    let fd = TTY_FD.load(Ordering::SeqCst);
    let group = GROUP.load(Ordering::SeqCst);
    // SAFETY: tcsetattr, kill, signal and raise are async-signal-safe; SAVED
    // was written before TTY_FD was set.
    unsafe {
        if fd >= 0 {
            if let Some(saved) = &*SAVED.0.get() {
                libc::tcsetattr(fd, libc::TCSANOW, saved);
            }
        }
        if group > 0 {
            libc::kill(-group, libc::SIGKILL);
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}
