/**
 * Initialises the Admin SDK once per instance. Imported by the service modules (not the triggers),
 * so the cost is paid on the first call rather than at cold start.
 */
import { getApps, initializeApp } from "firebase-admin/app";

if (getApps().length === 0) initializeApp();
