// Cockpit's page API, which ../base1/cockpit.js of the Cockpit serving the
// page puts on window: it matches the bridge the page talks to.
const cockpit = window.cockpit;

export default cockpit;
