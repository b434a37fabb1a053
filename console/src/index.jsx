import React from "react";
import { createRoot } from "react-dom/client";

import "@patternfly/react-core/dist/styles/base.css";
import "./page.css";

import cockpit from "./cockpit.js";
import { App } from "./app.jsx";

function start() {
    // The page's language is the one po.js (chosen by Cockpit) brings.
    document.documentElement.lang = cockpit.language || "en";
    createRoot(document.getElementById("app")).render(<App />);
}

if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", start);
else
    start();
