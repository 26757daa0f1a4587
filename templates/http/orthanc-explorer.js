/* Orthanc Explorer: browses the archive through the REST API one level at a time
   (patients, studies, series, instances), looks studies up, and lists jobs and plugins. */
(function () {
  "use strict";
  // The API's root, without any credentials the page's own address carries.
  var api = location.origin + location.pathname.replace(/\/app\/[^\/]*$/, "");

  function $(id) { return document.getElementById(id); }

  function get(path) {
    return fetch(api + path, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(path + ": " + r.status); }
      var type = r.headers.get("Content-Type") || "";
      return type.indexOf("json") >= 0 ? r.json() : r.text();
    });
  }

  function text(value) { return value === undefined || value === null ? "" : String(value); }

  function element(tag, attributes, children) {
    var e = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (k) { e.setAttribute(k, attributes[k]); });
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }

  function formatDate(d) {
    d = text(d);
    return d.length === 8 ? d.substr(6, 2) + "/" + d.substr(4, 2) + "/" + d.substr(0, 4) : d;
  }

  function item(href, title, sub, count) {
    var children = [element("span", {}, [title])];
    if (count !== undefined) { children.unshift(element("span", { "class": "count" }, [text(count)])); }
    if (sub) { children.push(element("div", { "class": "sub" }, [sub])); }
    return element("li", {}, [element("a", { href: href }, children)]);
  }

  function fill(list, items) {
    var ul = $(list);
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    items.forEach(function (i) { ul.appendChild(i); });
  }

  function table(id, tags) {
    var t = $(id);
    while (t.firstChild) { t.removeChild(t.firstChild); }
    Object.keys(tags || {}).sort().forEach(function (k) {
      var value = tags[k] === null ? "(binary)" : text(tags[k]);
      t.appendChild(element("tr", {}, [element("td", {}, [k]), element("td", {}, [value])]));
    });
  }

  function patientItem(p) {
    var t = p.MainDicomTags || {};
    return item("#patient?uuid=" + p.ID, text(t.PatientName) || "(no name)",
      "Patient ID: " + text(t.PatientID) + " \u00b7 Birth date: " + formatDate(t.PatientBirthDate) + " \u00b7 Sex: " + text(t.PatientSex),
      (p.Studies || []).length);
  }

  function studyItem(s) {
    var t = s.MainDicomTags || {}, who = s.PatientMainDicomTags || {};
    return item("#study?uuid=" + s.ID, text(t.StudyDescription) || "(no description)",
      formatDate(t.StudyDate) + " \u00b7 " + text(who.PatientName) + " \u00b7 Accession " + text(t.AccessionNumber),
      (s.Series || []).length);
  }

  function seriesItem(s) {
    var t = s.MainDicomTags || {};
    return item("#series?uuid=" + s.ID, text(t.SeriesDescription) || "(no description)",
      "Modality: " + text(t.Modality) + " \u00b7 Series " + text(t.SeriesNumber) + " \u00b7 " + text(t.BodyPartExamined),
      (s.Instances || []).length);
  }

  function instanceItem(i) {
    var t = i.MainDicomTags || {};
    return item("#instance?uuid=" + i.ID, "Instance " + text(t.InstanceNumber), text(t.SOPInstanceUID));
  }

  var pages = {
    "lookup": function () {},
    "find-patients": function () {
      return get("/patients?expand").then(function (all) {
        var draw = function () {
          var f = $("patient-filter").value.toLowerCase();
          fill("all-patients", all.filter(function (p) {
            return !f || JSON.stringify(p.MainDicomTags).toLowerCase().indexOf(f) >= 0;
          }).map(patientItem));
        };
        $("patient-filter").oninput = draw;
        draw();
      });
    },
    "find-studies": function () {
      return get("/studies?expand").then(function (all) { fill("all-studies", all.map(studyItem)); });
    },
    "patient": function (uuid) {
      return Promise.all([get("/patients/" + uuid), get("/patients/" + uuid + "/studies")]).then(function (r) {
        table("patient-info", r[0].MainDicomTags);
        fill("patient-studies", r[1].map(studyItem));
      });
    },
    "study": function (uuid) {
      return Promise.all([get("/studies/" + uuid), get("/studies/" + uuid + "/series")]).then(function (r) {
        table("study-info", r[0].MainDicomTags);
        $("study-patient").href = "#patient?uuid=" + r[0].ParentPatient;
        fill("study-series", r[1].map(seriesItem));
      });
    },
    "series": function (uuid) {
      return Promise.all([get("/series/" + uuid), get("/series/" + uuid + "/instances")]).then(function (r) {
        table("series-info", r[0].MainDicomTags);
        $("series-study").href = "#study?uuid=" + r[0].ParentStudy;
        fill("series-instances", r[1].map(instanceItem));
      });
    },
    "instance": function (uuid) {
      return Promise.all([get("/instances/" + uuid), get("/instances/" + uuid + "/simplified-tags")]).then(function (r) {
        table("instance-info", r[0].MainDicomTags);
        $("instance-series").href = "#series?uuid=" + r[0].ParentSeries;
        $("instance-download").href = api + "/instances/" + uuid + "/file";
        table("instance-tags", r[1]);
      });
    },
    "upload": function () {},
    "query-retrieve": function () {
      return get("/modalities").then(function (m) {
        fill("qr-servers", m.map(function (name) { return element("option", {}, [name]); }));
        $("qr-status").textContent = m.length ? "" : "No DICOM server is configured.";
      });
    },
    "jobs": function () {
      return get("/jobs").then(function (j) {
        fill("job-list", j.length ? j.map(function (id) { return item("#jobs", id); }) : [element("li", {}, ["No job"])]);
      });
    },
    "plugins": function () {
      return get("/plugins").then(function (p) { fill("plugin-list", p.map(function (n) { return element("li", {}, [n]); })); });
    }
  };

  function show() {
    var hash = (location.hash || "#lookup").substr(1);
    var name = hash.split("?")[0];
    var match = /uuid=([0-9a-f-]+)/.exec(hash);
    if (!pages[name]) { name = "lookup"; }
    Array.prototype.forEach.call(document.querySelectorAll(".page"), function (p) {
      p.className = p.id === name ? "page active" : "page";
    });
    var done = pages[name](match ? match[1] : undefined);
    if (done && done.catch) { done.catch(function (e) { console.log(e.message); }); }
  }

  function lookup(event) {
    event.preventDefault();
    var form = event.target, wanted = {};
    ["PatientID", "PatientName", "AccessionNumber", "StudyDescription"].forEach(function (k) {
      var v = form.elements[k].value.trim().toLowerCase();
      if (v) { wanted[k] = v; }
    });
    var days = parseInt(form.elements.StudyDate.value, 10);
    var since = days ? new Date(Date.now() - days * 86400000).toISOString().substr(0, 10).replace(/-/g, "") : "";
    get("/studies?expand").then(function (all) {
      fill("lookup-result", all.filter(function (s) {
        var tags = Object.assign({}, s.PatientMainDicomTags, s.MainDicomTags);
        var ok = Object.keys(wanted).every(function (k) { return text(tags[k]).toLowerCase().indexOf(wanted[k]) >= 0; });
        return ok && (!since || text(tags.StudyDate) >= since);
      }).map(studyItem));
    });
  }

  function upload(event) {
    event.preventDefault();
    var files = event.target.elements.files.files, sent = 0;
    Array.prototype.forEach.call(files, function (f) {
      fetch(api + "/instances", { method: "POST", body: f, credentials: "same-origin" }).then(function (r) {
        sent += 1;
        $("upload-status").textContent = sent + " of " + files.length + " file(s) sent" + (r.ok ? "" : " (error " + r.status + ")");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("lookup-form").addEventListener("submit", lookup);
    $("upload-form").addEventListener("submit", upload);
    $("qr-form").addEventListener("submit", function (e) { e.preventDefault(); $("qr-status").textContent = "No DICOM server is configured."; });
    get("/system").then(function (s) {
      $("server-name").textContent = s.Name;
      $("version").textContent = s.Version;
    }).catch(function () {});
    window.addEventListener("hashchange", show);
    show();
  });
})();
