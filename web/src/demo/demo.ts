// The demo page shows the snippet for this very server (its own address), ready to copy.
const code = document.querySelector('[data-snippet]');
if (code) code.textContent = `<script async src="${location.origin}/widget.js"></script>`;
