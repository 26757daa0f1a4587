// honeyward console: passkey sign-up and sign-in (WebAuthn). Everything else is
// plain HTML forms.
"use strict";

const b64u = {
  enc: (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
  dec: (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0)),
};

async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
  const answer = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(answer.error || r.statusText);
  return answer;
}

function say(message) {
  const el = document.getElementById("status");
  if (el) el.textContent = message;
}

async function signIn() {
  const o = await post("/login/options", {});
  const cred = await navigator.credentials.get({
    publicKey: { challenge: b64u.dec(o.challenge), rpId: o.rp_id, timeout: 60000, userVerification: "required", allowCredentials: [] },
  });
  await post("/login/finish", {
    id: o.id,
    credential_id: b64u.enc(cred.rawId),
    client_data: b64u.enc(cred.response.clientDataJSON),
    authenticator_data: b64u.enc(cred.response.authenticatorData),
    signature: b64u.enc(cred.response.signature),
  });
  location.assign("/incidents");
}

async function enrol() {
  const o = await post("/enrol/options", { invite: document.body.dataset.invite });
  const cred = await navigator.credentials.create({
    publicKey: {
      challenge: b64u.dec(o.challenge),
      rp: { id: o.rp_id, name: "honeyward" },
      user: { id: b64u.dec(o.user_id), name: o.account, displayName: o.account },
      pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -8 }, { type: "public-key", alg: -257 }],
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
      attestation: "none",
      timeout: 60000,
    },
  });
  await post("/enrol/finish", { id: o.id, client_data: b64u.enc(cred.response.clientDataJSON), attestation_object: b64u.enc(cred.response.attestationObject) });
  location.assign("/incidents");
}

document.addEventListener("DOMContentLoaded", () => {
  const signInButton = document.getElementById("passkey-sign-in");
  if (signInButton) signInButton.addEventListener("click", () => signIn().catch((e) => say("Sign-in failed: " + e.message)));
  const enrolButton = document.getElementById("passkey-enrol");
  if (enrolButton) enrolButton.addEventListener("click", () => enrol().catch((e) => say("Could not create the passkey: " + e.message)));
});
