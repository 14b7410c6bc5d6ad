//! Loopback ports.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// 127.0.0.1.
pub const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released), for a
/// program that must be told its port. Programs that can report the port they bound to
/// (`127.0.0.1:0`) have no race and should be preferred.
pub fn free_port() -> u16 {
    free_addr(LOOPBACK).port()
}

/// `ip:PORT` with a port that was free a moment ago on `ip` (a loopback address).
pub fn free_addr(ip: IpAddr) -> SocketAddr {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("bind {ip}:0: {e}"))
}

/// Waits until `addr` accepts TCP connections, at most `timeout`; `Err` says how long it
/// waited and the last connect error.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let attempt = left.clamp(Duration::from_millis(10), Duration::from_secs(1));
        match TcpStream::connect_timeout(&addr, attempt) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("{addr} did not accept within {timeout:?}: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn wait_for_port_sees_a_listener() {
        let listener = TcpListener::bind((LOOPBACK, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        wait_for_port(addr, Duration::from_secs(2)).unwrap();
    }

    #[test]
    fn wait_for_port_gives_up_on_a_port_nobody_listens_on() {
        // A socket bound but not listening holds the port: no other program can listen on it
        // and the kernel never picks it as the source port of a connect (which, on loopback,
        // would connect the socket to itself). Connecting to it is refused, every time.
        use socket2::{Domain, Socket, Type};
        let holder = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        holder.bind(&SocketAddr::new(LOOPBACK, 0).into()).unwrap();
        let addr = holder.local_addr().unwrap().as_socket().unwrap();
        let started = Instant::now();
        let err = wait_for_port(addr, Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("did not accept within 300ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
        drop(holder);
    }
}
