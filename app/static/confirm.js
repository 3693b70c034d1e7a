// A form whose action cannot be undone (撤回、关闭、摘牌、终止协议) says so before it is sent:
// <form data-confirm="…">. Without scripts the form is sent as it is (the service still checks it).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form && form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
})();
