/**
 * Initialises the Admin SDK's default app once per instance. Imported by the service modules (not
 * the triggers), so the cost is paid on the first call rather than at cold start. The check is for
 * the default app by name: firebase-functions creates its own named app to verify callable tokens,
 * so "no apps yet" is false on the first call of a fresh instance while the default app is missing.
 */
import { getApps, initializeApp } from "firebase-admin/app";

const DEFAULT_APP = "[DEFAULT]";

if (!getApps().some((app) => app.name === DEFAULT_APP)) initializeApp();
