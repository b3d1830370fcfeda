//! Containers for machines with a Docker engine and no local servers.

use std::sync::Mutex;

use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

/// Containers live as long as the test process.
static STARTED: Mutex<Vec<Container<GenericImage>>> = Mutex::new(Vec::new());

/// Starts `image:tag`, waits for `ready_line` on its output and returns the host port mapped to
/// `port`; `None` when Docker is not usable. Runs on its own thread because the blocking runner
/// owns a runtime and tests call this from inside theirs.
pub fn start(
    image: &'static str,
    tag: &'static str,
    port: u16,
    ready_line: &'static str,
) -> Option<u16> {
    let started = std::thread::spawn(move || {
        GenericImage::new(image, tag)
            .with_exposed_port(port.tcp())
            .with_wait_for(WaitFor::message_on_either_std(ready_line))
            .with_env_var("POSTGRES_HOST_AUTH_METHOD", "trust")
            .start()
            .ok()
    })
    .join()
    .ok()
    .flatten()?;
    let host_port = started.get_host_port_ipv4(port).ok()?;
    STARTED.lock().ok()?.push(started);
    Some(host_port)
}
