//! One connection's transport layer, server side: identification exchange, the first
//! key exchange and re-keys, strict KEX, EXT_INFO, and the transport messages the
//! layers above never see. Everything it sends comes from the [`Profile`].

use std::sync::Arc;

use super::hostkey::HostKeys;
use super::io::{Io, ReadError};
use super::kex::{self, dh::Moduli, ServerKex, Step, Transcript};
use super::kexinit::{negotiate, ClientKexInit, Direction, Negotiated, Proposal};
use super::msg;
use super::packet::{DirectionKeys, PacketError};
use super::rules::{self, Disposition, Phase};
use super::version::{self, Family, Verdict};
use super::wire::{Put, Reader};

/// What the transport imitates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub family: Family,
    /// The identification line without CR LF.
    pub banner: String,
    pub proposal: Proposal,
    /// EXT_INFO extensions in order (name, value); empty: never sent.
    pub ext_info: Vec<(String, String)>,
    /// The real server's time from accept to its banner (fork and exec), uniform in
    /// this range in milliseconds.
    pub banner_delay_ms: (u64, u64),
    /// EXT_INFO is sent again right after USERAUTH_SUCCESS (OpenSSH 9.6+).
    pub ext_info_after_auth: bool,
}

/// Why the transport stopped.
#[derive(Debug, thiserror::Error)]
pub enum Ending {
    /// End of stream, a reset, or the client's DISCONNECT.
    #[error("peer closed the connection")]
    PeerClosed,
    /// The session byte cap.
    #[error("byte cap reached")]
    Cap,
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    /// The client's identification line was refused.
    #[error("identification refused")]
    BadIdentification,
    /// A protocol error the server answers by closing; `notice` is the DISCONNECT
    /// text the imitated server sends (None: it closes without a word).
    #[error("protocol error: {}", notice.as_deref().unwrap_or("closed silently"))]
    Protocol { notice: Option<String> },
}

impl From<ReadError> for Ending {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Eof => Ending::PeerClosed,
            ReadError::Cap => Ending::Cap,
            ReadError::Io(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe) => Ending::PeerClosed,
            ReadError::Io(e) => Ending::Io(e),
            // Bad lengths, MACs: both servers close without sending anything.
            ReadError::Packet(PacketError::BadPadding(n)) => Ending::Protocol { notice: Some(format!("Corrupted padlen {n} on input.")) },
            ReadError::Packet(_) => Ending::Protocol { notice: None },
        }
    }
}

/// What the client showed before and during the first key exchange.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// Its identification line.
    pub version: Vec<u8>,
    /// `kex;ciphers;macs;compression` from its first KEXINIT (the HASSH input).
    pub hassh_input: Vec<u8>,
    /// What the negotiation settled on (None when nothing was common).
    pub negotiated: Option<Negotiated>,
}

/// One connection's transport.
pub struct Transport {
    pub io: Io,
    profile: Arc<Profile>,
    host_keys: Arc<HostKeys>,
    moduli: Arc<Moduli>,
    pub client: ClientInfo,
    session_id: Vec<u8>,
    /// The host key blob used in the first key exchange (publickey-hostbound).
    pub host_key_blob: Vec<u8>,
    authenticated: bool,
    /// Strict KEX was agreed in the first key exchange: sequence numbers restart at
    /// every NEWKEYS from then on (only the first exchange is strict about messages).
    strict: bool,
    /// Sequence number of the last packet received (for UNIMPLEMENTED).
    last_seq: u32,
    /// Packets received so far.
    received: u64,
}

impl Transport {
    pub fn new(mut io: Io, profile: Arc<Profile>, host_keys: Arc<HostKeys>, moduli: Arc<Moduli>) -> Self {
        io.outbound.zero_plain_padding = profile.family == Family::Openssh;
        Transport {
            io,
            profile,
            host_keys,
            moduli,
            client: ClientInfo::default(),
            session_id: Vec::new(),
            host_key_blob: Vec::new(),
            authenticated: false,
            strict: false,
            last_seq: 0,
            received: 0,
        }
    }

    pub fn family(&self) -> Family {
        self.profile.family
    }

    /// The session identifier (H of the first key exchange).
    pub fn session_id(&self) -> &[u8] {
        &self.session_id
    }

    fn kexinit(&self) -> Vec<u8> {
        let mut cookie = [0u8; 16];
        rand::fill(&mut cookie);
        self.profile.proposal.encode(cookie)
    }

    /// Identification exchange and the first key exchange.
    pub async fn handshake(&mut self) -> Result<(), Ending> {
        let (lo, hi) = self.profile.banner_delay_ms;
        if hi > 0 {
            tokio::time::sleep(std::time::Duration::from_micros(rand::random_range(lo * 1000..=hi.max(lo) * 1000))).await;
        }
        self.io.queue_raw(format!("{}\r\n", self.profile.banner).as_bytes());
        let mut i_s = None;
        if self.profile.family == Family::Dropbear {
            // Dropbear sends its KEXINIT with the banner, before reading anything.
            let k = self.kexinit();
            self.io.queue(&k);
            i_s = Some(k);
        }
        self.io.flush().await?;
        match version::read_client(&mut self.io, self.profile.family).await? {
            Verdict::Accept(line) => self.client.version = line,
            Verdict::Refuse { text } => {
                if let Some(text) = text {
                    // Two writes in sshd: the text, then CR LF, which a reset (unread
                    // input) discards before it leaves the host.
                    self.io.queue_raw(text.as_bytes());
                    if !self.io.has_unread_input() {
                        self.io.queue_raw(b"\r\n");
                    }
                    self.io.flush().await?;
                }
                return Err(Ending::BadIdentification);
            }
        }
        let i_s = match i_s {
            Some(k) => k,
            None => {
                // Goes out when the transport next waits for the client.
                let k = self.kexinit();
                self.io.queue(&k);
                k
            }
        };
        // The client's KEXINIT, with what may come before it.
        let first = loop {
            let payload = self.read().await?;
            let t = payload.first().copied().unwrap_or(0);
            if t == msg::KEXINIT {
                break payload;
            }
            let phase = Phase::Kex { strict: false, before_client_kexinit: true };
            self.dispose(rules::unexpected(self.profile.family, phase, t, self.last_seq)).await?;
        };
        // Boxed: its state is large and only lives during the exchange.
        Box::pin(self.key_exchange(first, i_s, true)).await
    }

    /// Reads one packet, counting it; DISCONNECT from the client ends the connection.
    async fn read(&mut self) -> Result<Vec<u8>, Ending> {
        let payload = self.io.read_packet().await?;
        self.last_seq = self.io.inbound.seq.wrapping_sub(1);
        self.received += 1;
        if payload.first() == Some(&msg::DISCONNECT) {
            return Err(Ending::PeerClosed);
        }
        Ok(payload)
    }

    /// Carries out a disposition; `Ok` when the connection goes on.
    async fn dispose(&mut self, d: Disposition) -> Result<(), Ending> {
        match d {
            Disposition::Ignore => Ok(()),
            Disposition::Unimplemented => {
                let mut p = vec![msg::UNIMPLEMENTED];
                p.put_u32(self.last_seq);
                self.io.queue(&p);
                Ok(())
            }
            Disposition::Close => Err(Ending::Protocol { notice: None }),
            Disposition::Disconnect(text) => Err(Ending::Protocol { notice: Some(text) }),
        }
    }

    /// One key exchange from the client's KEXINIT (`i_c`) and ours (`i_s`, sent).
    async fn key_exchange(&mut self, i_c: Vec<u8>, i_s: Vec<u8>, first: bool) -> Result<(), Ending> {
        let family = self.profile.family;
        let client = ClientKexInit::parse(&i_c).map_err(|_| Ending::Protocol { notice: None })?;
        if first {
            self.client.hassh_input = client.hassh_input();
        }
        let negotiated = negotiate(&self.profile.proposal, &client, first);
        let first_kex_follows = client.first_kex_follows;
        let n = match negotiated {
            Ok(n) => n,
            // No common algorithm: both servers close without a word.
            Err(_) => return Err(Ending::Protocol { notice: None }),
        };
        if first {
            self.client.negotiated = Some(n);
            if n.strict && self.received != 1 {
                let notice = (family == Family::Openssh).then(|| "strict KEX violation: KEXINIT was not the first packet".to_string());
                return Err(Ending::Protocol { notice });
            }
        }
        if first {
            self.strict = n.strict;
        }
        let strict = first && n.strict;
        let (host_keys, moduli) = (Arc::clone(&self.host_keys), Arc::clone(&self.moduli));
        let host = host_keys.for_alg(n.host_key).ok_or(Ending::Protocol { notice: None })?;
        let mut server = ServerKex::new(n.kex, n.host_key, need_bits(&n));
        let mut skip_next = n.ignore_guess && first_kex_follows;
        let finished = loop {
            let payload = self.read().await?;
            let t = payload.first().copied().unwrap_or(0);
            let noise = rules::is_transport_noise(t);
            if skip_next && !(noise && !strict && family == Family::Openssh) {
                skip_next = false;
                continue;
            }
            if (30..50).contains(&t) {
                let transcript = Transcript { v_c: &self.client.version, v_s: self.profile.banner.as_bytes(), i_c: &i_c, i_s: &i_s };
                match server.step(&payload, &transcript, host, &moduli) {
                    Ok(Step::Send(p)) => self.io.queue(&p),
                    Ok(Step::Done(f)) => break f,
                    Err(kex::KexError::Unexpected(t)) => {
                        let phase = Phase::Kex { strict, before_client_kexinit: false };
                        self.dispose(rules::unexpected(family, phase, t, self.last_seq)).await?;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, kex = n.kex.name(), "key exchange failed");
                        return Err(Ending::Protocol { notice: None });
                    }
                }
                continue;
            }
            let phase = Phase::Kex { strict, before_client_kexinit: false };
            self.dispose(rules::unexpected(family, phase, t, self.last_seq)).await?;
        };
        if first {
            self.session_id = finished.h.clone();
            self.host_key_blob = host.blob.clone();
        }
        let keys = |dir: &Direction, letters: [u8; 3], sealing: bool, sid: &[u8]| {
            let (key_len, iv_len, _) = dir.cipher.sizes();
            let mac_len = dir.mac.map_or(0, |m| m.sizes().0);
            let iv = kex::derive(n.kex, &finished.k, &finished.h, letters[0], sid, iv_len);
            let key = kex::derive(n.kex, &finished.k, &finished.h, letters[1], sid, key_len);
            let mac = kex::derive(n.kex, &finished.k, &finished.h, letters[2], sid, mac_len);
            DirectionKeys::new(dir, sealing, &iv, &key, &mac)
        };
        let s2c = keys(&n.s2c, [b'B', b'D', b'F'], true, &self.session_id);
        let c2s = keys(&n.c2s, [b'A', b'C', b'E'], false, &self.session_id);
        self.io.queue(&finished.reply);
        self.io.queue(&[msg::NEWKEYS]);
        self.io.outbound.rekey(s2c, self.authenticated);
        if self.strict {
            self.io.outbound.seq = 0;
        }
        if first && n.ext_info && !self.profile.ext_info.is_empty() {
            self.queue_ext_info();
        }
        self.io.flush().await?;
        // The client's NEWKEYS. Dropbear lets IGNORE through here even when strict.
        loop {
            let payload = self.read().await?;
            let t = payload.first().copied().unwrap_or(0);
            if t == msg::NEWKEYS {
                break;
            }
            let strict_here = strict && family == Family::Openssh;
            let phase = Phase::Kex { strict: strict_here, before_client_kexinit: false };
            self.dispose(rules::unexpected(family, phase, t, self.last_seq)).await?;
        }
        self.io.inbound.rekey(c2s, self.authenticated);
        if self.strict {
            self.io.inbound.seq = 0;
        }
        Ok(())
    }

    /// The next message for the layers above; transport messages (IGNORE, DEBUG,
    /// UNIMPLEMENTED, re-keys) are handled here as the imitated server does.
    pub async fn next(&mut self) -> Result<Vec<u8>, Ending> {
        loop {
            let payload = self.read().await?;
            let t = payload.first().copied().unwrap_or(0);
            let phase = if self.authenticated { Phase::Authenticated } else { Phase::PreAuth };
            if t == msg::KEXINIT && (self.authenticated || self.profile.family == Family::Dropbear) {
                let i_s = self.kexinit();
                self.io.queue(&i_s);
                Box::pin(self.key_exchange(payload, i_s, false)).await?;
                continue;
            }
            if t == msg::PING && self.offers("ping@openssh.com") {
                // OpenSSH 9.5+: answer with the same data.
                let mut r = Reader::new(&payload);
                let _ = r.u8();
                let data = r.string().map_err(|_| Ending::Protocol { notice: None })?;
                let mut pong = vec![msg::PONG];
                pong.put_string(data);
                self.io.queue(&pong);
                continue;
            }
            if t == msg::KEXINIT || rules::is_transport_noise(t) || t == 0 || t >= 192 {
                self.dispose(rules::unexpected(self.profile.family, phase, t, self.last_seq)).await?;
                continue;
            }
            return Ok(payload);
        }
    }

    /// True when the personality's EXT_INFO advertises `extension`.
    fn offers(&self, extension: &str) -> bool {
        self.profile.ext_info.iter().any(|(n, _)| n == extension)
    }

    /// Queues EXT_INFO again after authentication (OpenSSH 9.6 and later do), for a
    /// client that asked for it.
    pub fn queue_ext_info_after_auth(&mut self) {
        if self.profile.ext_info_after_auth && self.client.negotiated.is_some_and(|n| n.ext_info) {
            self.queue_ext_info();
        }
    }

    fn queue_ext_info(&mut self) {
        let mut p = vec![msg::EXT_INFO];
        p.put_u32(self.profile.ext_info.len() as u32);
        for (name, value) in &self.profile.ext_info {
            p.put_string(name.as_bytes());
            p.put_string(value.as_bytes());
        }
        self.io.queue(&p);
    }

    /// Answers the last message with UNIMPLEMENTED, or closes, as the family does
    /// with a message it does not expect in this phase.
    pub async fn reject_unexpected(&mut self, t: u8) -> Result<(), Ending> {
        let phase = if self.authenticated { Phase::Authenticated } else { Phase::PreAuth };
        self.dispose(rules::unexpected(self.profile.family, phase, t, self.last_seq)).await
    }

    /// Sends one message.
    pub async fn send(&mut self, payload: &[u8]) -> Result<(), Ending> {
        self.io.send(payload).await.map_err(Ending::from)
    }

    /// Queues one message (sent at the next `send` or `flush`).
    pub fn queue(&mut self, payload: &[u8]) {
        self.io.queue(payload);
    }

    /// Writes what is queued.
    pub async fn flush(&mut self) -> Result<(), Ending> {
        self.io.flush().await.map_err(Ending::from)
    }

    /// Authentication succeeded: delayed compression starts (after USERAUTH_SUCCESS,
    /// which must already be queued), and re-keys are allowed.
    pub fn authenticated(&mut self) {
        self.authenticated = true;
        self.io.outbound.authenticated();
        self.io.inbound.authenticated();
    }

    /// Ends the connection the way the family does: the DISCONNECT notice when it
    /// sends one, then a FIN, or a reset when input was left unread.
    pub async fn close(mut self, notice: Option<&str>) {
        if let (Some(text), Family::Openssh) = (notice, self.profile.family) {
            self.io.queue(&msg::disconnect(msg::Reason::ProtocolError, text));
        }
        let reset = self.io.has_unread_input();
        self.io.close(reset).await;
    }

    /// The host key blobs (for `hostkeys-00@openssh.com`).
    pub fn host_key_blobs(&self) -> Vec<Vec<u8>> {
        self.host_keys.blobs().map(<[u8]>::to_vec).collect()
    }
}

/// Bits of key material the negotiated algorithms need (OpenSSH's `we_need`, at
/// least 256): sizes the DH private exponent (twice this).
fn need_bits(n: &Negotiated) -> u32 {
    let dir = |d: &Direction| {
        let (key, iv, block) = d.cipher.sizes();
        let mac = d.mac.map_or(0, |m| m.sizes().0);
        key.max(iv).max(block).max(mac)
    };
    ((dir(&n.c2s).max(dir(&n.s2c)) * 8) as u32).max(256)
}
