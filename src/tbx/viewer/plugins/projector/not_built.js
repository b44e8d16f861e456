// Shown instead of the dashboard when its bundle (web/build-plugins.mjs) was not built.
export default function render(root) {
  const p = document.createElement('p');
  p.className = 'plugin-error';
  p.textContent = 'This dashboard\'s front end was not built (it needs Node.js and npm): run '
    + '"npm ci && npm run build" in web/, or reinstall tbx with npm available.';
  root.append(p);
}
