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

// A recorded SSH session played back frame by frame: play, pause, speed. The frames
// are the decoy's asciicast output with escape codes removed and hidden characters
// already marked by the server; they are only ever set as text.
function player(pre) {
  let frames;
  try {
    frames = JSON.parse(pre.dataset.frames || "[]");
  } catch {
    return;
  }
  const controls = pre.previousElementSibling;
  if (!controls || !controls.classList.contains("player") || frames.length === 0) return;
  const play = controls.querySelector(".play");
  const speed = controls.querySelector(".speed");
  let next = 0;
  let timer = null;
  const stop = (label) => {
    clearTimeout(timer);
    timer = null;
    play.textContent = label;
  };
  const step = () => {
    if (next >= frames.length) {
      stop("Play again");
      next = 0;
      pre.dataset.played = "yes";
      return;
    }
    pre.textContent += frames[next][1];
    const gap = next + 1 < frames.length ? frames[next + 1][0] - frames[next][0] : 0;
    next += 1;
    timer = setTimeout(step, (Math.min(Math.max(gap, 0), 2) * 1000) / Number(speed.value || 1));
  };
  play.addEventListener("click", () => {
    if (timer) return stop("Play");
    if (next === 0) pre.textContent = "";
    play.textContent = "Pause";
    step();
  });
  controls.hidden = false;
}

// The token form offers only the templates that can hold the chosen kind (the server
// refuses a mismatch anyway).
function templatesFollowKind(form) {
  const kind = form.querySelector("select[name=kind]");
  const template = form.querySelector("select[name=template]");
  if (!kind || !template) return;
  const follow = () => {
    for (const o of template.options) {
      if (!o.dataset.kinds) continue;
      o.hidden = !o.dataset.kinds.split(" ").includes(kind.value);
    }
    if (template.selectedOptions[0] && template.selectedOptions[0].hidden) template.value = "";
  };
  kind.addEventListener("change", follow);
  follow();
}

// Relative times gain the reader's local time; the UTC time stays on hover.
function localTimes() {
  for (const t of document.querySelectorAll("time[datetime]")) {
    const when = new Date(t.dateTime);
    if (Number.isNaN(when.getTime()) || t.dataset.local) continue;
    t.dataset.local = "yes";
    t.textContent += ` (${when.toLocaleString([], { dateStyle: "short", timeStyle: "short" })})`;
  }
}

// Creating a token: the file is downloaded, then the token's page confirms what it
// holds and where it goes. What the server refuses is sent again as a plain form, so
// the reason shows on the form.
function createThenConfirm(form) {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.plain) return;
    event.preventDefault();
    const r = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" });
    const id = r.headers.get("x-honeyward-token");
    if (!r.ok || !id) {
      form.dataset.plain = "yes";
      form.submit();
      return;
    }
    const name = (r.headers.get("content-disposition") || "").split("filename=\"")[1]?.split("\"")[0] || `${id}.txt`;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await r.blob());
    link.download = name;
    document.body.appendChild(link);
    link.click();
    setTimeout(() => location.assign(`/tokens/${encodeURIComponent(id)}?created=${encodeURIComponent(r.headers.get("x-honeyward-template") || "")}`), 300);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes();
  document.querySelectorAll("form.create").forEach(createThenConfirm);
  document.querySelectorAll("form.create").forEach(templatesFollowKind);
  document.querySelectorAll("pre.replay[data-frames]").forEach(player);
  const signInButton = document.getElementById("passkey-sign-in");
  if (signInButton) signInButton.addEventListener("click", () => signIn().catch((e) => say("Sign-in failed: " + e.message)));
  const enrolButton = document.getElementById("passkey-enrol");
  if (enrolButton) enrolButton.addEventListener("click", () => enrol().catch((e) => say("Could not create the passkey: " + e.message)));
});
