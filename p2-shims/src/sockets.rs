//! `wasi:sockets` stubs, so components that import sockets (as
//! componentize-py's do) instantiate: `instance-network` works, creating a
//! TCP or UDP socket returns `not-supported`, `resolve-addresses` returns
//! `permanent-resolver-failure` (wasmtime's answer when lookups are not
//! allowed).
//!
//! Invariant: no socket, resolver stream or datagram stream can ever
//! exist, so their methods are implemented only to satisfy imports and
//! trap if somehow reached (a handle of them cannot be lifted).

use crate::bindings::io_poll::Pollable;
use crate::bindings::io_streams::{InputStream, OutputStream};
use crate::bindings::sockets_ip_name_lookup::{self, ResolveAddressStream};
use crate::bindings::sockets_network::{
    self, ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Network,
};
use crate::bindings::sockets_tcp::{self, ShutdownType, TcpSocket};
use crate::bindings::sockets_udp::{
    self, IncomingDatagram, IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream,
    UdpSocket,
};
use crate::bindings::{
    sockets_instance_network, sockets_tcp_create_socket, sockets_udp_create_socket,
};
use crate::glue::{Borrow, Own};
use crate::table::Entry;
use crate::{HostError, WasiCtx};

/// Why a method of a socket (or stream) that cannot exist was reached.
fn no_socket() -> HostError {
    HostError::Refused("wasi:sockets: no socket can exist on a WASIp1 host".into())
}

/// Methods of resources no call can create: each traps with [`no_socket`].
macro_rules! unreachable_methods {
    ($($name:ident($($p:ident: $t:ty),*) -> $r:ty;)*) => {
        $(
            fn $name(&mut self, $($p: $t),*) -> Result<$r, HostError> {
                let _ = ($($p,)*);
                Err(no_socket())
            }
        )*
    };
}

impl sockets_network::Host for WasiCtx {
    fn drop_network(&mut self, n: Own<Network>) -> Result<(), HostError> {
        self.drop_entry(n.rep())
    }
}

impl sockets_instance_network::Host for WasiCtx {
    fn instance_network(&mut self) -> Result<Own<Network>, HostError> {
        Ok(Own::new(self.table.push(Entry::Network)?))
    }
}

impl sockets_tcp_create_socket::Host for WasiCtx {
    fn create_tcp_socket(
        &mut self,
        _: IpAddressFamily,
    ) -> Result<Result<Own<TcpSocket>, ErrorCode>, HostError> {
        Ok(Err(ErrorCode::NotSupported))
    }
}

impl sockets_udp_create_socket::Host for WasiCtx {
    fn create_udp_socket(
        &mut self,
        _: IpAddressFamily,
    ) -> Result<Result<Own<UdpSocket>, ErrorCode>, HostError> {
        Ok(Err(ErrorCode::NotSupported))
    }
}

impl sockets_ip_name_lookup::Host for WasiCtx {
    fn resolve_addresses(
        &mut self,
        network: Borrow<Network>,
        _name: &str,
    ) -> Result<Result<Own<ResolveAddressStream>, ErrorCode>, HostError> {
        let rep = network.rep();
        if !self.table.is_network(rep) {
            return Err(HostError::BadHandle {
                rep,
                kind: "network",
            });
        }
        Ok(Err(ErrorCode::PermanentResolverFailure))
    }
    unreachable_methods! {
        resolve_address_stream_resolve_next_address(s: Borrow<ResolveAddressStream>) -> Result<Option<IpAddress>, ErrorCode>;
        resolve_address_stream_subscribe(s: Borrow<ResolveAddressStream>) -> Own<Pollable>;
    }
    fn drop_resolve_address_stream(
        &mut self,
        s: Own<ResolveAddressStream>,
    ) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
}

impl sockets_tcp::Host for WasiCtx {
    unreachable_methods! {
        tcp_socket_start_bind(s: Borrow<TcpSocket>, network: Borrow<Network>, local_address: IpSocketAddress) -> Result<(), ErrorCode>;
        tcp_socket_finish_bind(s: Borrow<TcpSocket>) -> Result<(), ErrorCode>;
        tcp_socket_start_connect(s: Borrow<TcpSocket>, network: Borrow<Network>, remote_address: IpSocketAddress) -> Result<(), ErrorCode>;
        tcp_socket_finish_connect(s: Borrow<TcpSocket>) -> Result<(Own<InputStream>, Own<OutputStream>), ErrorCode>;
        tcp_socket_start_listen(s: Borrow<TcpSocket>) -> Result<(), ErrorCode>;
        tcp_socket_finish_listen(s: Borrow<TcpSocket>) -> Result<(), ErrorCode>;
        tcp_socket_accept(s: Borrow<TcpSocket>) -> Result<(Own<TcpSocket>, Own<InputStream>, Own<OutputStream>), ErrorCode>;
        tcp_socket_local_address(s: Borrow<TcpSocket>) -> Result<IpSocketAddress, ErrorCode>;
        tcp_socket_remote_address(s: Borrow<TcpSocket>) -> Result<IpSocketAddress, ErrorCode>;
        tcp_socket_is_listening(s: Borrow<TcpSocket>) -> bool;
        tcp_socket_address_family(s: Borrow<TcpSocket>) -> IpAddressFamily;
        tcp_socket_set_listen_backlog_size(s: Borrow<TcpSocket>, value: u64) -> Result<(), ErrorCode>;
        tcp_socket_keep_alive_enabled(s: Borrow<TcpSocket>) -> Result<bool, ErrorCode>;
        tcp_socket_set_keep_alive_enabled(s: Borrow<TcpSocket>, value: bool) -> Result<(), ErrorCode>;
        tcp_socket_keep_alive_idle_time(s: Borrow<TcpSocket>) -> Result<u64, ErrorCode>;
        tcp_socket_set_keep_alive_idle_time(s: Borrow<TcpSocket>, value: u64) -> Result<(), ErrorCode>;
        tcp_socket_keep_alive_interval(s: Borrow<TcpSocket>) -> Result<u64, ErrorCode>;
        tcp_socket_set_keep_alive_interval(s: Borrow<TcpSocket>, value: u64) -> Result<(), ErrorCode>;
        tcp_socket_keep_alive_count(s: Borrow<TcpSocket>) -> Result<u32, ErrorCode>;
        tcp_socket_set_keep_alive_count(s: Borrow<TcpSocket>, value: u32) -> Result<(), ErrorCode>;
        tcp_socket_hop_limit(s: Borrow<TcpSocket>) -> Result<u8, ErrorCode>;
        tcp_socket_set_hop_limit(s: Borrow<TcpSocket>, value: u8) -> Result<(), ErrorCode>;
        tcp_socket_receive_buffer_size(s: Borrow<TcpSocket>) -> Result<u64, ErrorCode>;
        tcp_socket_set_receive_buffer_size(s: Borrow<TcpSocket>, value: u64) -> Result<(), ErrorCode>;
        tcp_socket_send_buffer_size(s: Borrow<TcpSocket>) -> Result<u64, ErrorCode>;
        tcp_socket_set_send_buffer_size(s: Borrow<TcpSocket>, value: u64) -> Result<(), ErrorCode>;
        tcp_socket_subscribe(s: Borrow<TcpSocket>) -> Own<Pollable>;
        tcp_socket_shutdown(s: Borrow<TcpSocket>, shutdown_type: ShutdownType) -> Result<(), ErrorCode>;
    }
    fn drop_tcp_socket(&mut self, s: Own<TcpSocket>) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
}

impl sockets_udp::Host for WasiCtx {
    unreachable_methods! {
        udp_socket_start_bind(s: Borrow<UdpSocket>, network: Borrow<Network>, local_address: IpSocketAddress) -> Result<(), ErrorCode>;
        udp_socket_finish_bind(s: Borrow<UdpSocket>) -> Result<(), ErrorCode>;
        udp_socket_stream(s: Borrow<UdpSocket>, remote_address: Option<IpSocketAddress>) -> Result<(Own<IncomingDatagramStream>, Own<OutgoingDatagramStream>), ErrorCode>;
        udp_socket_local_address(s: Borrow<UdpSocket>) -> Result<IpSocketAddress, ErrorCode>;
        udp_socket_remote_address(s: Borrow<UdpSocket>) -> Result<IpSocketAddress, ErrorCode>;
        udp_socket_address_family(s: Borrow<UdpSocket>) -> IpAddressFamily;
        udp_socket_unicast_hop_limit(s: Borrow<UdpSocket>) -> Result<u8, ErrorCode>;
        udp_socket_set_unicast_hop_limit(s: Borrow<UdpSocket>, value: u8) -> Result<(), ErrorCode>;
        udp_socket_receive_buffer_size(s: Borrow<UdpSocket>) -> Result<u64, ErrorCode>;
        udp_socket_set_receive_buffer_size(s: Borrow<UdpSocket>, value: u64) -> Result<(), ErrorCode>;
        udp_socket_send_buffer_size(s: Borrow<UdpSocket>) -> Result<u64, ErrorCode>;
        udp_socket_set_send_buffer_size(s: Borrow<UdpSocket>, value: u64) -> Result<(), ErrorCode>;
        udp_socket_subscribe(s: Borrow<UdpSocket>) -> Own<Pollable>;
        incoming_datagram_stream_receive(s: Borrow<IncomingDatagramStream>, max_results: u64) -> Result<Vec<IncomingDatagram>, ErrorCode>;
        incoming_datagram_stream_subscribe(s: Borrow<IncomingDatagramStream>) -> Own<Pollable>;
        outgoing_datagram_stream_check_send(s: Borrow<OutgoingDatagramStream>) -> Result<u64, ErrorCode>;
        outgoing_datagram_stream_send(s: Borrow<OutgoingDatagramStream>, datagrams: Vec<OutgoingDatagram>) -> Result<u64, ErrorCode>;
        outgoing_datagram_stream_subscribe(s: Borrow<OutgoingDatagramStream>) -> Own<Pollable>;
    }
    fn drop_udp_socket(&mut self, s: Own<UdpSocket>) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
    fn drop_incoming_datagram_stream(
        &mut self,
        s: Own<IncomingDatagramStream>,
    ) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
    fn drop_outgoing_datagram_stream(
        &mut self,
        s: Own<OutgoingDatagramStream>,
    ) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
}
