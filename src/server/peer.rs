//! Who is at the other end of a loopback connection: the uid that owns the
//! peer's socket. TCP has no `SO_PEERCRED`, so on Linux the kernel is asked
//! by the connection's exact addresses (sock_diag over netlink: one answer,
//! tens of microseconds, however many sockets the machine has), else its
//! socket tables (`/proc/net/tcp`, `/proc/net/tcp6`: the peer may have
//! connected from an IPv6 socket to `::ffff:127.0.0.1`) are read.
//! Elsewhere: unknown.

use std::net::{IpAddr, SocketAddr};

/// The kernel's answers to "whose socket is this?", one netlink socket for
/// the accept loop.
pub struct Owners {
    #[cfg(target_os = "linux")]
    diag: Option<linux::Diag>,
}

impl Owners {
    pub fn new() -> Owners {
        Owners {
            #[cfg(target_os = "linux")]
            diag: linux::Diag::open(),
        }
    }

    /// The uid owning the socket at `peer` connected to us at `local`;
    /// `None` when it cannot be told.
    pub fn uid(&mut self, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
        #[cfg(target_os = "linux")]
        {
            if let Some(diag) = &mut self.diag {
                if let Some(uid) = diag.uid(peer, local) {
                    return Some(uid);
                }
            }
            linux::uid_from_tables(peer, local)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (peer, local);
            None
        }
    }
}

/// Whether a connection from `uid` may be served: ours, or root's (root can
/// read the command's token anyway; `sudo -E` in the command keeps working).
pub fn allowed(uid: u32) -> bool {
    // SAFETY: getuid has no preconditions.
    uid == 0 || uid == unsafe { libc::getuid() }
}

/// The 16 bytes of an address as the kernel's tables hold them: IPv4 as
/// the IPv4-mapped IPv6 address when `mapped`, else in the first 4 bytes.
fn octets(ip: IpAddr, mapped: bool) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) if mapped => v4.to_ipv6_mapped().octets(),
        IpAddr::V4(v4) => {
            let mut out = [0u8; 16];
            out[..4].copy_from_slice(&v4.octets());
            out
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::Read;
    use std::net::SocketAddr;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    use super::octets;

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    /// nlmsghdr (16) + inet_diag_req_v2 (56).
    const REQUEST_LEN: usize = 72;
    /// inet_diag_msg: family, state, timer, retrans, the socket id (48),
    /// expires, rqueue, wqueue, then the uid.
    const UID_AT: usize = 4 + 48 + 12;

    pub struct Diag {
        fd: OwnedFd,
        seq: u32,
    }

    impl Diag {
        pub fn open() -> Option<Diag> {
            // SAFETY: plain socket(2); the descriptor is owned at once.
            let fd = unsafe {
                libc::socket(
                    libc::AF_NETLINK,
                    libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                    libc::NETLINK_SOCK_DIAG,
                )
            };
            if fd < 0 {
                return None;
            }
            // SAFETY: a fresh descriptor nobody else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // A kernel that does not answer must not stall the accept loop.
            let timeout = libc::timeval {
                tv_sec: 0,
                tv_usec: 100_000,
            };
            // SAFETY: a timeval of the size given.
            let rc = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_RCVTIMEO,
                    (&timeout as *const libc::timeval).cast(),
                    std::mem::size_of::<libc::timeval>() as libc::socklen_t,
                )
            };
            (rc == 0).then_some(Diag { fd, seq: 0 })
        }

        /// Asks as an IPv4 socket, then as an IPv6 one (IPv4-mapped).
        pub fn uid(&mut self, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
            self.ask(libc::AF_INET as u8, peer, local)
                .or_else(|| self.ask(libc::AF_INET6 as u8, peer, local))
        }

        fn ask(&mut self, family: u8, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
            self.seq = self.seq.wrapping_add(1);
            let request = request(self.seq, family, peer, local);
            // SAFETY: a buffer of the length given; the kernel is the peer
            // of an unbound netlink socket.
            let sent = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    request.as_ptr().cast(),
                    request.len(),
                    0,
                )
            };
            if sent != REQUEST_LEN as isize {
                return None;
            }
            let mut reply = [0u8; 512];
            loop {
                // SAFETY: writes at most reply.len() bytes into reply.
                let got = unsafe {
                    libc::recv(
                        self.fd.as_raw_fd(),
                        reply.as_mut_ptr().cast(),
                        reply.len(),
                        0,
                    )
                };
                let got = usize::try_from(got).ok()?;
                match answer(&reply[..got], self.seq) {
                    Answer::Uid(uid) => return Some(uid),
                    Answer::NotFound => return None,
                    Answer::Stale => continue, // a late answer to an earlier question
                }
            }
        }
    }

    /// "The TCP socket whose own end is `peer` and whose other end is
    /// `local`": an exact lookup, not a dump.
    fn request(seq: u32, family: u8, peer: SocketAddr, local: SocketAddr) -> [u8; REQUEST_LEN] {
        let mapped = family == libc::AF_INET6 as u8;
        let mut out = [0u8; REQUEST_LEN];
        out[0..4].copy_from_slice(&(REQUEST_LEN as u32).to_ne_bytes());
        out[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        out[6..8].copy_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
        out[8..12].copy_from_slice(&seq.to_ne_bytes());
        let req = &mut out[16..];
        req[0] = family;
        req[1] = libc::IPPROTO_TCP as u8;
        req[4..8].copy_from_slice(&u32::MAX.to_ne_bytes()); // every state
        let id = &mut req[8..];
        id[0..2].copy_from_slice(&peer.port().to_be_bytes());
        id[2..4].copy_from_slice(&local.port().to_be_bytes());
        id[4..20].copy_from_slice(&octets(peer.ip(), mapped));
        id[20..36].copy_from_slice(&octets(local.ip(), mapped));
        // Interface 0; no cookie (INET_DIAG_NOCOOKIE).
        id[40..48].copy_from_slice(&[0xff; 8]);
        out
    }

    enum Answer {
        Uid(u32),
        NotFound,
        Stale,
    }

    fn answer(reply: &[u8], seq: u32) -> Answer {
        let word = |at: usize| -> Option<u32> {
            Some(u32::from_ne_bytes(reply.get(at..at + 4)?.try_into().ok()?))
        };
        let (Some(len), Some(kind), Some(got_seq)) = (
            word(0),
            reply.get(4..6).map(|b| u16::from_ne_bytes([b[0], b[1]])),
            word(8),
        ) else {
            return Answer::NotFound;
        };
        if got_seq != seq {
            return Answer::Stale;
        }
        if kind != SOCK_DIAG_BY_FAMILY || (len as usize) < 16 + UID_AT + 4 {
            return Answer::NotFound; // NLMSG_ERROR: no such socket
        }
        word(16 + UID_AT).map_or(Answer::NotFound, Answer::Uid)
    }

    /// The owner from `/proc/net/tcp` or `/proc/net/tcp6` (up to 16 MiB each).
    pub fn uid_from_tables(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
        [("/proc/net/tcp", false), ("/proc/net/tcp6", true)]
            .iter()
            .find_map(|(path, v6)| {
                let hex = |addr: SocketAddr| {
                    let bytes = octets(addr.ip(), *v6);
                    let words = if *v6 { &bytes[..] } else { &bytes[..4] };
                    // Each 32-bit word as the host-order number of its bytes.
                    let text: String = words
                        .chunks(4)
                        .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
                        .collect();
                    format!("{text}:{:04X}", addr.port())
                };
                let (peer, local) = (hex(peer), hex(local));
                let mut table = String::new();
                std::fs::File::open(path)
                    .ok()?
                    .take(16 << 20)
                    .read_to_string(&mut table)
                    .ok()?;
                table.lines().skip(1).find_map(|line| {
                    let cols: Vec<&str> = line.split_ascii_whitespace().collect();
                    (cols.get(1) == Some(&peer.as_str()) && cols.get(2) == Some(&local.as_str()))
                        .then(|| cols.get(7)?.parse().ok())
                        .flatten()
                })
            })
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    fn ours() -> u32 {
        // SAFETY: getuid has no preconditions.
        unsafe { libc::getuid() }
    }

    #[test]
    fn the_peer_of_a_loopback_connection_is_us_by_either_route() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().unwrap();
        let (peer, local) = (server.peer_addr().unwrap(), server.local_addr().unwrap());
        assert_eq!(linux::Diag::open().unwrap().uid(peer, local), Some(ours()));
        assert_eq!(linux::uid_from_tables(peer, local), Some(ours()));
        assert_eq!(Owners::new().uid(peer, local), Some(ours()));
        // A port nobody uses: nobody's.
        let nobody = SocketAddr::from(([127, 0, 0, 1], 1));
        assert_eq!(Owners::new().uid(nobody, local), None);
        drop(client);
    }

    #[test]
    fn an_ipv6_socket_to_the_mapped_address_is_found_too() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let Ok(client) = TcpStream::connect(("::ffff:127.0.0.1", port)) else {
            return; // no IPv6 here: nothing to find
        };
        let (server, _) = listener.accept().unwrap();
        let (peer, local) = (server.peer_addr().unwrap(), server.local_addr().unwrap());
        assert_eq!(linux::Diag::open().unwrap().uid(peer, local), Some(ours()));
        assert_eq!(linux::uid_from_tables(peer, local), Some(ours()));
        drop(client);
    }
}
