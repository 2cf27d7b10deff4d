//! `wasi:sockets` stubs, so components that import sockets (as
//! componentize-py's do) instantiate: `instance-network` works, creating a
//! TCP or UDP socket returns `not-supported`, `resolve-addresses` returns
//! `permanent-resolver-failure` (wasmtime's answer when lookups are not
//! allowed), `network-error-code` is `none`.
//!
//! Invariant: no socket, resolver stream or datagram stream can ever
//! exist, so their methods are registered only to satisfy imports and trap
//! if somehow reached.

use crate::table::Entry;
use crate::vals::{err_enum, none};
use crate::{def, dtor, iface, HostError, WasiView};
use canonical_abi::Val;
use component_model::Linker;

const TCP: &[&str] = &[
    "start-bind",
    "finish-bind",
    "start-connect",
    "finish-connect",
    "start-listen",
    "finish-listen",
    "accept",
    "local-address",
    "remote-address",
    "is-listening",
    "address-family",
    "set-listen-backlog-size",
    "keep-alive-enabled",
    "set-keep-alive-enabled",
    "keep-alive-idle-time",
    "set-keep-alive-idle-time",
    "keep-alive-interval",
    "set-keep-alive-interval",
    "keep-alive-count",
    "set-keep-alive-count",
    "hop-limit",
    "set-hop-limit",
    "receive-buffer-size",
    "set-receive-buffer-size",
    "send-buffer-size",
    "set-send-buffer-size",
    "subscribe",
    "shutdown",
];
const UDP: &[&str] = &[
    "[method]udp-socket.start-bind",
    "[method]udp-socket.finish-bind",
    "[method]udp-socket.stream",
    "[method]udp-socket.local-address",
    "[method]udp-socket.remote-address",
    "[method]udp-socket.address-family",
    "[method]udp-socket.unicast-hop-limit",
    "[method]udp-socket.set-unicast-hop-limit",
    "[method]udp-socket.receive-buffer-size",
    "[method]udp-socket.set-receive-buffer-size",
    "[method]udp-socket.send-buffer-size",
    "[method]udp-socket.set-send-buffer-size",
    "[method]udp-socket.subscribe",
    "[method]incoming-datagram-stream.receive",
    "[method]incoming-datagram-stream.subscribe",
    "[method]outgoing-datagram-stream.check-send",
    "[method]outgoing-datagram-stream.send",
    "[method]outgoing-datagram-stream.subscribe",
];

fn unreachable_method<T: WasiView>(l: &mut Linker<T>, i: &str, name: &str) {
    def(l, i, name, |_, _| {
        Err(HostError::Refused(
            "wasi:sockets: no socket can exist on a WASIp1 host".into(),
        ))
    });
}

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let net = iface("sockets/network");
    def(l, &net, "network-error-code", |_, _| Ok(vec![none()]));
    dtor(l, &net, "network");
    def(
        l,
        &iface("sockets/instance-network"),
        "instance-network",
        |cx, _| Ok(vec![Val::Resource(cx.table.push(Entry::Network)?)]),
    );
    def(
        l,
        &iface("sockets/tcp-create-socket"),
        "create-tcp-socket",
        |_, _| Ok(vec![err_enum("not-supported")]),
    );
    def(
        l,
        &iface("sockets/udp-create-socket"),
        "create-udp-socket",
        |_, _| Ok(vec![err_enum("not-supported")]),
    );
    let lookup = iface("sockets/ip-name-lookup");
    def(l, &lookup, "resolve-addresses", |cx, a| {
        let rep = a.res(0)?;
        if !cx.table.is_network(rep) {
            return Err(HostError::BadHandle {
                rep,
                kind: "network",
            });
        }
        Ok(vec![err_enum("permanent-resolver-failure")])
    });
    for m in [
        "[method]resolve-address-stream.resolve-next-address",
        "[method]resolve-address-stream.subscribe",
    ] {
        unreachable_method(l, &lookup, m);
    }
    dtor(l, &lookup, "resolve-address-stream");
    let tcp = iface("sockets/tcp");
    for m in TCP {
        unreachable_method(l, &tcp, &format!("[method]tcp-socket.{m}"));
    }
    dtor(l, &tcp, "tcp-socket");
    let udp = iface("sockets/udp");
    for m in UDP {
        unreachable_method(l, &udp, m);
    }
    for r in [
        "udp-socket",
        "incoming-datagram-stream",
        "outgoing-datagram-stream",
    ] {
        dtor(l, &udp, r);
    }
}
