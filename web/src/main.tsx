import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { App } from "./App";
import { SessionProvider } from "./lib/session";
import { GraphQLProvider } from "./lib/client";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");

createRoot(root).render(
  <StrictMode>
    <SessionProvider>
      <GraphQLProvider>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </GraphQLProvider>
    </SessionProvider>
  </StrictMode>,
);
