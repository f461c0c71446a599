// govmail webmail: the provincial directory as compose's address book (issue 8).
// As the user types in To, Cc or Bcc, the last address of the field is looked up
// at /addressbook/suggest and offered in a listbox (ARIA combobox pattern):
// arrow keys move, Enter or a click picks, Escape closes. Picking a group puts
// all its members' addresses in the field, where they can still be trimmed.
// Without script the fields stay plain text inputs. No inline script (CSP).
(function () {
  "use strict";
  var me = document.currentScript;
  var form = document.querySelector("form.compose");
  if (!me || !form) return;
  var url = me.getAttribute("data-suggest");
  var label = me.getAttribute("data-label") || "";
  var hintText = me.getAttribute("data-hint") || "";

  var hint = document.createElement("span");
  hint.id = "ab-hint";
  hint.className = "sr";
  hint.textContent = hintText;
  form.appendChild(hint);

  ["to", "cc", "bcc"].forEach(function (id) {
    var input = form.querySelector("#" + id);
    if (input) attach(input);
  });

  // lastToken is the address being typed: what follows the last separator.
  function lastToken(v) {
    var i = Math.max(v.lastIndexOf(","), v.lastIndexOf(";"));
    return { start: i + 1, text: v.slice(i + 1).trim() };
  }

  function attach(input) {
    var list = document.createElement("ul");
    list.id = input.id + "-suggest";
    list.className = "ab-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", label);
    list.hidden = true;
    input.parentNode.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var desc = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (desc ? desc + " " : "") + hint.id);

    var items = [], active = -1, timer = 0, seq = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function setActive(i) {
      var opts = list.children;
      if (active >= 0 && opts[active]) opts[active].setAttribute("aria-selected", "false");
      active = i;
      if (active >= 0 && opts[active]) {
        opts[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", opts[active].id);
        opts[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(i) {
      var it = items[i];
      if (!it) return;
      var addrs = it.members && it.members.length ? it.members : [it.address];
      var tok = lastToken(input.value);
      var head = input.value.slice(0, tok.start).replace(/\s+$/, "");
      input.value = (head ? head + " " : "") + addrs.join(", ") + ", ";
      close();
      input.focus();
    }

    function show(data) {
      list.textContent = "";
      items = data || [];
      active = -1;
      if (!items.length) { close(); return; }
      items.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "ab-name";
        name.textContent = it.members ? it.name + " (" + it.members.length + ")" : (it.name || it.address);
        li.appendChild(name);
        var detail = it.members ? it.unit || "" : (it.name ? "<" + it.address + ">" : "") + (it.unit ? " · " + it.unit : "");
        if (detail) {
          var d = document.createElement("span");
          d.className = "ab-detail";
          d.textContent = " " + detail;
          li.appendChild(d);
        }
        // mousedown, not click: it comes before the input's blur closes the list.
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function lookup() {
      var q = lastToken(input.value).text;
      if (q.length < 2) { close(); return; }
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (data) { if (mine === seq) show(data); })
        .catch(function () { if (mine === seq) close(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 150);
    });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) {
        if (ev.key === "ArrowDown" && lastToken(input.value).text.length >= 2) { lookup(); ev.preventDefault(); }
        return;
      }
      switch (ev.key) {
        case "ArrowDown": setActive(active + 1 < items.length ? active + 1 : 0); ev.preventDefault(); break;
        case "ArrowUp": setActive(active > 0 ? active - 1 : items.length - 1); ev.preventDefault(); break;
        case "Enter": if (active >= 0) { pick(active); ev.preventDefault(); } break;
        case "Escape": close(); ev.preventDefault(); break;
        case "Tab": close(); break;
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }
})();
