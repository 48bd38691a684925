import { callApi } from "../lib/api";
import type { ApiBody } from "../lib/api-contract";
import { copyText } from "../lib/clipboard";
import { byId } from "../lib/dom";
import { keyStorageMessage, saveKey } from "../lib/key-store";
import { statusRegion } from "../lib/status";

const button = byId<HTMLButtonElement>("bootstrap");
const status = statusRegion(byId("bootstrap-status"));
const keyField = byId<HTMLInputElement>("master-key");
const tokenField = byId<HTMLInputElement>("bootstrap-token");

const state = byId("bootstrap-state");

/** Says up front whether bootstrapping is still possible, instead of learning it from a 403. */
async function showBootstrapState() {
  try {
    const result = await callApi<ApiBody<"getBootstrapStatus", 200>>("/api/bootstrap/status");
    byId("bootstrap-token-field").hidden = result.body.data.bootstrapped || !result.body.data.tokenRequired;
    if (result.body.data.bootstrapped) {
      state.textContent = "This installation already has a master key. Further keys are created on API keys, with a master key.";
      button.disabled = true;
    } else {
      state.textContent = "No master key exists yet: the first one can be created now.";
    }
  } catch (error) {
    status.fail(error);
  }
}

void showBootstrapState();

button.addEventListener("click", async () => {
  button.disabled = true;
  status.busy("Creating the master key…");
  try {
    const token = tokenField.value.trim();
    const result = await callApi<ApiBody<"bootstrapInitialKey", 201>>("/api/bootstrap/initial-key", {
      method: "POST",
      headers: token ? { "X-Bootstrap-Token": token } : {},
    });
    tokenField.value = "";
    keyField.value = result.body.data.apiKey;
    byId("bootstrap-result").hidden = false;
    status.done("The first master key was created.");
    keyField.focus();
    keyField.select();
  } catch (error) {
    status.fail(error);
    button.disabled = false;
  }
});

byId("copy-master").addEventListener("click", () => copyText(keyField.value, byId("copy-feedback"), keyField));
byId("keep-master").addEventListener("click", () => {
  try {
    saveKey(keyField.value);
    byId("keep-feedback").textContent = "Kept in this browser as the master key. Remove it from “API keys” at the top when done.";
  } catch (error) {
    byId("keep-feedback").textContent = keyStorageMessage(error);
  }
});
