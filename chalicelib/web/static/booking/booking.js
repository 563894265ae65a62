// Helptal booking pages: the month calendar, the free times, the booking form and the manage
// page's reschedule and cancel. Plain script, no framework, no build step, loaded from the
// page's own site (the policy allows 'self' only, plus the human check's widget when shown).
// The page is rendered by the server; this script reads its settings from #bk's data-*
// attributes, calls the public JSON API on the same site, and writes every text it did not
// get from the page with textContent. The manage token is read from this page's URL.
(function () {
  "use strict";

  var root = document.getElementById("bk");
  if (!root) return;
  var data = root.dataset;
  var W = JSON.parse(data.words || "{}");
  var LOCALE = data.locale || "en";
  var MANAGE = data.mode === "manage";
  var api = data.api || "";
  if (MANAGE) {
    var token = location.pathname.split("/").filter(Boolean).pop() || "";
    api = (api || "/v1/booking/manage") + "/" + encodeURIComponent(decodeURIComponent(token));
  }
  var picker = document.getElementById("bk-picker");
  var form = document.getElementById("bk-form");
  var done = document.getElementById("bk-done");
  var tzSelect = document.getElementById("bk-tz");
  var grid = document.getElementById("bk-grid");
  var monthTitle = document.getElementById("bk-month");
  var prev = document.getElementById("bk-prev");
  var next = document.getElementById("bk-next");
  var dayTitle = document.getElementById("bk-day");
  var times = document.getElementById("bk-times");
  var status = document.getElementById("bk-status");
  var chosenText = document.getElementById("bk-chosen");
  var horizon = parseInt(data.horizon || "60", 10);

  function word(key, values) {
    var text = W[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(values[name]);
    });
    return text;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text != null) node.textContent = text;
    return node;
  }

  // -- time zones ---------------------------------------------------------------------------
  var detected = "UTC";
  try {
    detected = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch (e) {
    /* an old browser: UTC */
  }
  var zone = detected;

  function fillZones() {
    var zones = [];
    try {
      if (Intl.supportedValuesOf) zones = Intl.supportedValuesOf("timeZone");
    } catch (e) {
      zones = [];
    }
    if (zones.indexOf(detected) < 0) zones = [detected].concat(zones);
    if (zones.indexOf("UTC") < 0) zones.push("UTC");
    var fragment = document.createDocumentFragment();
    zones.forEach(function (name) {
      var option = el("option", { value: name }, name.replace(/_/g, " "));
      if (name === detected) option.selected = true;
      fragment.appendChild(option);
    });
    tzSelect.appendChild(fragment);
    tzSelect.value = detected;
  }

  function fmt(options) {
    return new Intl.DateTimeFormat(LOCALE, Object.assign({ timeZone: zone }, options));
  }

  function when(start, end) {
    var a = new Date(start);
    var text = fmt({ weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(a);
    var t = fmt({ hour: "numeric", minute: "2-digit" });
    text += ", " + t.format(a) + (end ? " – " + t.format(new Date(end)) : "");
    return text + " (" + zone.replace(/_/g, " ") + ")";
  }

  // Today's date in the chosen zone, as [year, month (0-11), day].
  function today() {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    })
      .formatToParts(new Date())
      .forEach(function (p) {
        parts[p.type] = p.value;
      });
    return [+parts.year, +parts.month - 1, +parts.day];
  }

  function iso(y, m, d) {
    var date = new Date(Date.UTC(y, m, d));
    return date.toISOString().slice(0, 10);
  }

  // A calendar date shown by name (noon UTC: the same date in any zone's formatting).
  function dayName(isoDate, options) {
    var date = new Date(isoDate + "T12:00:00Z");
    return new Intl.DateTimeFormat(LOCALE, Object.assign({ timeZone: "UTC" }, options)).format(
      date
    );
  }

  // -- the month and its free times ---------------------------------------------------------
  var now = today();
  var shown = [now[0], now[1]]; // year, month shown
  var days = {}; // "YYYY-MM-DD" -> [slot]
  var cache = {};
  var selectedDay = null;
  var focusDay = null;
  var chosen = null;
  var skipped = 0;
  var duration = data.duration || "";
  var weekStart = LOCALE === "fr" ? 1 : 0;

  function say(text, alert) {
    status.textContent = text || "";
    status.setAttribute("role", alert ? "alert" : "status");
    status.className = alert ? "problem" : "muted";
    if (!text) status.className = "";
  }

  function monthKey() {
    return [shown[0], shown[1], zone, duration].join("|");
  }

  function lastDay() {
    var d = new Date(Date.UTC(now[0], now[1], now[2]));
    d.setUTCDate(d.getUTCDate() + horizon);
    return d.toISOString().slice(0, 10);
  }

  function loadMonth(focusGrid) {
    var key = monthKey();
    var from = iso(shown[0], shown[1], 1);
    var to = iso(shown[0], shown[1] + 1, 0); // the month's last day (included)
    drawMonth(true);
    if (cache[key]) {
      days = cache[key];
      drawMonth(false, focusGrid);
      return;
    }
    say(word("loading"));
    var query =
      "?from=" + from + "&to=" + to + "&time_zone=" + encodeURIComponent(zone) +
      (duration ? "&duration=" + encodeURIComponent(duration) : "");
    fetch(api + "/slots" + query, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (body) {
        var found = {};
        (body.slots || []).forEach(function (slot) {
          var date = slot.local_date || fmtDate(slot.start);
          if (date.slice(0, 7) !== from.slice(0, 7)) return;
          (found[date] = found[date] || []).push(slot);
        });
        cache[key] = found;
        if (key !== monthKey()) return; // the visitor moved on meanwhile
        days = found;
        say("");
        if (!Object.keys(found).length && skipped < 2 && canNext()) {
          skipped += 1; // nothing this month: the first month with times is shown
          shown = [shown[0] + (shown[1] === 11 ? 1 : 0), (shown[1] + 1) % 12];
          loadMonth(focusGrid);
          return;
        }
        skipped = 2;
        drawMonth(false, focusGrid);
        if (!Object.keys(found).length) say(word("no_times_month"));
      })
      .catch(function () {
        drawMonth(false);
        say(word("error_load"), true);
      });
  }

  function fmtDate(start) {
    var parts = {};
    fmt({ year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date(start))
      .forEach(function (p) {
        parts[p.type] = p.value;
      });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function canPrev() {
    return shown[0] > now[0] || (shown[0] === now[0] && shown[1] > now[1]);
  }

  function canNext() {
    return iso(shown[0], shown[1] + 1, 1) <= lastDay();
  }

  function drawMonth(loading, focusGrid) {
    monthTitle.textContent = dayName(iso(shown[0], shown[1], 1), { month: "long", year: "numeric" });
    prev.disabled = !canPrev();
    next.disabled = !canNext();
    var body = grid.tBodies[0];
    body.textContent = "";
    var first = new Date(Date.UTC(shown[0], shown[1], 1)).getUTCDay();
    var count = new Date(Date.UTC(shown[0], shown[1] + 1, 0)).getUTCDate();
    var offset = (first - weekStart + 7) % 7;
    var available = Object.keys(days).sort();
    var prefix = iso(shown[0], shown[1], 1).slice(0, 8);
    if (!focusDay || focusDay.slice(0, 8) !== prefix) {
      focusDay = selectedDay && selectedDay.slice(0, 8) === prefix ? selectedDay : available[0];
      if (!focusDay) focusDay = prefix + "01";
    }
    var row = null;
    for (var cell = 0; cell < offset + count; cell += 1) {
      if (cell % 7 === 0) row = body.appendChild(el("tr"));
      if (cell < offset) {
        row.appendChild(el("td"));
        continue;
      }
      var date = prefix + String(cell - offset + 1).padStart(2, "0");
      var free = !loading && !!days[date];
      var label = dayName(date, { weekday: "long", day: "numeric", month: "long" });
      var button = el("button", {
        type: "button",
        "data-day": date,
        tabindex: date === focusDay ? "0" : "-1",
        "aria-label": word(free ? "day_available" : "day_unavailable", { date: label }),
      }, String(cell - offset + 1));
      if (!free) button.setAttribute("aria-disabled", "true");
      if (date === selectedDay) button.setAttribute("aria-pressed", "true");
      row.appendChild(el("td")).appendChild(button);
    }
    while (row && row.children.length < 7) row.appendChild(el("td"));
    grid.setAttribute("aria-busy", loading ? "true" : "false");
    if (focusGrid) {
      var target = grid.querySelector('[data-day="' + focusDay + '"]');
      if (target) target.focus();
    }
    if (!loading) drawTimes();
  }

  function drawTimes() {
    times.textContent = "";
    if (!selectedDay || selectedDay.slice(0, 7) !== iso(shown[0], shown[1], 1).slice(0, 7)) {
      dayTitle.textContent = word("choose_day");
      return;
    }
    dayTitle.textContent = word("times_on", {
      date: dayName(selectedDay, { weekday: "long", day: "numeric", month: "long" }),
    });
    var slots = days[selectedDay] || [];
    if (!slots.length) {
      times.appendChild(el("li", { class: "muted" }, word("no_times_day")));
      return;
    }
    var format = fmt({ hour: "numeric", minute: "2-digit" });
    slots.forEach(function (slot) {
      var item = times.appendChild(el("li"));
      var button = item.appendChild(
        el("button", { type: "button", class: "slot", "data-start": slot.start },
          format.format(new Date(slot.start)))
      );
      button.addEventListener("click", function () {
        choose(slot);
      });
    });
  }

  function pickDay(date, moveFocus) {
    selectedDay = date;
    focusDay = date;
    drawMonth(false, false);
    var first = times.querySelector("button");
    if (moveFocus && first) first.focus();
  }

  grid.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-day]");
    if (!button || button.getAttribute("aria-disabled") === "true") return;
    pickDay(button.getAttribute("data-day"), true);
  });

  grid.addEventListener("keydown", function (event) {
    var button = event.target.closest("button[data-day]");
    if (!button) return;
    var moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    var date = new Date(button.getAttribute("data-day") + "T12:00:00Z");
    if (event.key in moves) date.setUTCDate(date.getUTCDate() + moves[event.key]);
    else if (event.key === "Home") date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() - weekStart + 7) % 7));
    else if (event.key === "End") date.setUTCDate(date.getUTCDate() + 6 - ((date.getUTCDay() - weekStart + 7) % 7));
    else if (event.key === "PageUp") date.setUTCMonth(date.getUTCMonth() - 1);
    else if (event.key === "PageDown") date.setUTCMonth(date.getUTCMonth() + 1);
    else return;
    event.preventDefault();
    var target = date.toISOString().slice(0, 10);
    var month = [date.getUTCFullYear(), date.getUTCMonth()];
    if (month[0] !== shown[0] || month[1] !== shown[1]) {
      var later = month[0] * 12 + month[1] > shown[0] * 12 + shown[1];
      if (later ? !canNext() : !canPrev()) return;
      shown = month;
      focusDay = target;
      loadMonth(true);
      return;
    }
    focusDay = target;
    grid.querySelectorAll("button[data-day]").forEach(function (b) {
      b.setAttribute("tabindex", b.getAttribute("data-day") === target ? "0" : "-1");
    });
    var found = grid.querySelector('[data-day="' + target + '"]');
    if (found) found.focus();
  });

  prev.addEventListener("click", function () {
    if (!canPrev()) return;
    shown = [shown[0] - (shown[1] === 0 ? 1 : 0), (shown[1] + 11) % 12];
    loadMonth(false);
  });
  next.addEventListener("click", function () {
    if (!canNext()) return;
    shown = [shown[0] + (shown[1] === 11 ? 1 : 0), (shown[1] + 1) % 12];
    loadMonth(false);
  });
  tzSelect.addEventListener("change", function () {
    zone = tzSelect.value || detected;
    now = today();
    selectedDay = null;
    loadMonth(false);
  });
  document.querySelectorAll('input[name="bk-duration"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      duration = radio.value;
      selectedDay = null;
      loadMonth(false);
    });
  });

  function reload() {
    cache = {};
    loadMonth(false);
  }

  // -- errors ----------------------------------------------------------------------------------
  function answer(response) {
    return response
      .json()
      .catch(function () {
        return {};
      })
      .then(function (body) {
        return { status: response.status, body: body, error: (body && body.error) || {} };
      });
  }

  function problem(result) {
    var code = result.error.code || "";
    if (result.status === 429) return word("error_too_many");
    if (code === "too_late_to_change") return word("error_too_late");
    if (code === "slot_taken") return word("error_slot_taken");
    if (/human|turnstile/.test(code)) return word("error_not_human");
    return word("error_generic");
  }

  function send(path, body) {
    return fetch(api + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(answer, function () {
      return { status: 0, body: {}, error: {} };
    });
  }

  var alertBox = document.getElementById("bk-alert");

  function slotTaken() {
    alertBox.textContent = word("error_slot_taken");
    reload();
    alertBox.focus();
  }

  // -- booking -------------------------------------------------------------------------------
  function choose(slot) {
    chosen = slot;
    alertBox.textContent = "";
    times.querySelectorAll("button.slot").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-start") === slot.start));
    });
    if (MANAGE) {
      var move = document.getElementById("bk-move");
      document.getElementById("bk-move-when").textContent = when(slot.start, slot.end);
      move.hidden = false;
      document.getElementById("bk-move-go").focus();
      return;
    }
    chosenText.textContent = when(slot.start, slot.end);
    picker.hidden = true;
    form.hidden = false;
    clearErrors();
    var first = form.querySelector("input:not([type=hidden]), textarea, select");
    if (first) first.focus();
  }

  function clearErrors() {
    form.querySelectorAll(".err").forEach(function (node) {
      node.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
    document.getElementById("bk-form-error").textContent = "";
  }

  function fieldError(name, text) {
    var input = form.querySelector('[name="' + name + '"]');
    var slot = document.getElementById("err-" + name);
    if (!input || !slot) return false;
    input.setAttribute("aria-invalid", "true");
    slot.textContent = text;
    return true;
  }

  function fieldMessage(name) {
    if (name === "email") return word("error_email");
    if (name === "name") return word("error_name");
    var input = form.querySelector('[name="' + name + '"]');
    if (input && input.required && !input.value.trim()) return word("error_required");
    return word("error_field");
  }

  // The API's 422 names fields as `email`, `name` or `answers.<question id>`.
  function showFieldErrors(result) {
    var shownAny = false;
    (result.error.details || []).forEach(function (detail) {
      var field = String(detail.field || "").replace(/^body\./, "");
      var name = field.indexOf("answers.") === 0 ? "q-" + field.slice(8) : field;
      if (fieldError(name, fieldMessage(name))) shownAny = true;
    });
    return shownAny;
  }

  function checkLocally() {
    var ok = true;
    form.querySelectorAll("input, textarea, select").forEach(function (input) {
      if (!input.name || input.type === "hidden" || !input.name.match(/^(name|email|q-)/)) return;
      var empty = !input.value.trim();
      var bad = (input.required && empty) || (input.type === "email" && !empty && !input.checkValidity());
      if (bad) {
        ok = false;
        fieldError(input.name, fieldMessage(input.name));
      }
    });
    return ok;
  }

  var back = document.getElementById("bk-back");
  if (back)
    back.addEventListener("click", function () {
      form.hidden = true;
      picker.hidden = false;
      var again = chosen && times.querySelector('[data-start="' + chosen.start + '"]');
      chosen = null;
      if (again) again.focus();
    });

  if (form)
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chosen) return;
      clearErrors();
      if (!checkLocally()) {
        var invalid = form.querySelector("[aria-invalid]");
        if (invalid) invalid.focus();
        return;
      }
      var answers = {};
      form.querySelectorAll("[name^='q-']").forEach(function (input) {
        if (input.value.trim()) answers[input.name.slice(2)] = input.value.trim();
      });
      var human = form.querySelector('[name="cf-turnstile-response"]');
      var body = {
        start: chosen.start,
        time_zone: zone,
        name: form.elements.name.value.trim(),
        email: form.elements.email.value.trim(),
        answers: answers,
        locale: LOCALE,
      };
      if (duration) body.duration = parseInt(duration, 10);
      if (human && human.value) body.human_token = human.value;
      var submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      submit.textContent = word("sending");
      send("/bookings", body).then(function (result) {
        submit.disabled = false;
        submit.textContent = word("confirm");
        if (window.turnstile && result.status !== 201) {
          try {
            window.turnstile.reset();
          } catch (e) {
            /* the widget is gone */
          }
        }
        if (result.status === 201) return confirmed(result.body, body.email);
        if (result.error.code === "slot_taken") {
          form.hidden = true;
          picker.hidden = false;
          chosen = null;
          return slotTaken();
        }
        if (result.status === 422 && showFieldErrors(result)) {
          var invalid = form.querySelector("[aria-invalid]");
          if (invalid) invalid.focus();
          return;
        }
        var box = document.getElementById("bk-form-error");
        box.textContent = problem(result);
      });
    });

  function confirmed(body, email) {
    var booking = body.booking || {};
    var pending = booking.status === "pending";
    form.hidden = true;
    picker.hidden = true;
    done.textContent = "";
    var title = done.appendChild(
      el("h2", { tabindex: "-1" }, word(pending ? "pending_title" : "booked_title"))
    );
    var list = done.appendChild(el("dl"));
    [
      ["what", booking.title || data.title || ""],
      ["when", when(booking.start || chosen.start, booking.end || chosen.end)],
      ["where", data.where || ""],
    ].forEach(function (pair) {
      if (!pair[1]) return;
      list.appendChild(el("dt", null, word(pair[0])));
      list.appendChild(el("dd", null, pair[1]));
    });
    if (pending) done.appendChild(el("p", { class: "pending" }, word("pending_note")));
    done.appendChild(el("p", { class: "muted" }, word("mail_note", { email: email })));
    if (body.manage_url && /^https?:\/\//.test(body.manage_url)) {
      var p = done.appendChild(el("p"));
      p.appendChild(el("a", { href: body.manage_url, class: "manage" }, word("manage_link")));
      done.appendChild(el("p", { class: "muted" }, word("manage_hint")));
    }
    done.hidden = false;
    title.focus();
  }

  // -- the manage page --------------------------------------------------------------------------
  function finish(what) {
    var url = location.pathname + "?done=" + what + "&lang=" + encodeURIComponent(LOCALE);
    location.replace(url);
  }

  if (MANAGE) {
    var rescheduleButton = document.getElementById("bk-reschedule");
    var cancelButton = document.getElementById("bk-cancel");
    var cancelBox = document.getElementById("bk-cancel-box");
    var manageError = document.getElementById("bk-manage-error");
    var started = false;
    if (rescheduleButton)
      rescheduleButton.addEventListener("click", function () {
        var open = picker.hidden;
        picker.hidden = !open;
        rescheduleButton.setAttribute("aria-expanded", String(open));
        if (open && !started) {
          started = true;
          fillZones();
          loadMonth(false);
        }
        if (open) tzSelect.focus();
      });
    var go = document.getElementById("bk-move-go");
    if (go)
      go.addEventListener("click", function () {
        if (!chosen) return;
        go.disabled = true;
        send("/reschedule", { start: chosen.start, time_zone: zone }).then(function (result) {
          go.disabled = false;
          if (result.status >= 200 && result.status < 300) return finish("rescheduled");
          if (result.error.code === "slot_taken") {
            document.getElementById("bk-move").hidden = true;
            return slotTaken();
          }
          manageError.textContent = problem(result);
        });
      });
    if (cancelButton)
      cancelButton.addEventListener("click", function () {
        cancelBox.hidden = false;
        cancelButton.setAttribute("aria-expanded", "true");
        document.getElementById("bk-reason").focus();
      });
    var keep = document.getElementById("bk-keep");
    if (keep)
      keep.addEventListener("click", function () {
        cancelBox.hidden = true;
        cancelButton.setAttribute("aria-expanded", "false");
        cancelButton.focus();
      });
    var cancelForm = document.getElementById("bk-cancel-form");
    if (cancelForm)
      cancelForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var reason = document.getElementById("bk-reason").value.trim();
        send("/cancel", { reason: reason }).then(function (result) {
          if (result.status >= 200 && result.status < 300) return finish("cancelled");
          manageError.textContent = problem(result);
        });
      });
    // Times the server wrote in UTC are shown again in the visitor's zone and language.
    document.querySelectorAll("time[data-start]").forEach(function (node) {
      node.textContent = when(node.getAttribute("data-start"), node.getAttribute("data-end"));
    });
  } else if (picker) {
    picker.hidden = false;
    fillZones();
    loadMonth(false);
  }
})();
