/**
 * Starts the offline Firestore (gRPC) and Storage servers of the local stack in this test process
 * on free ports, and points firebase-admin at them through the same env vars the Functions
 * emulator sets. Call before anything touches firebase-admin.
 */
import { after, before, beforeEach } from "node:test";
import { startFirestoreServer, type LocalFirestore } from "../../../local/firestore-server.js";
import { freePort, startStorageEmulator, type LocalStorage } from "../../../local/storage-emulator.js";
import { installTestAccounts, testAccounts } from "./authAccounts.js";
import { captureLogs, clearCapturedLogs } from "./logCapture.js";

export const PROJECT_ID = "demo-photo-fixer";
export const BUCKET = `${PROJECT_ID}.appspot.com`;

export interface Backends {
  firestore: LocalFirestore;
  storage: LocalStorage;
}

export async function startBackends(): Promise<Backends> {
  const firestore = await startFirestoreServer({ port: await freePort() });
  const storage = await startStorageEmulator({ port: await freePort(), projectId: PROJECT_ID });
  Object.assign(process.env, {
    GCLOUD_PROJECT: PROJECT_ID,
    FIREBASE_CONFIG: JSON.stringify({ projectId: PROJECT_ID, storageBucket: BUCKET }),
    FIRESTORE_EMULATOR_HOST: firestore.hostPort,
    FIREBASE_STORAGE_EMULATOR_HOST: storage.hostPort,
    STORAGE_EMULATOR_HOST: `http://${storage.hostPort}`,
    // Offline: never probe the GCE metadata server for credentials or a project id.
    METADATA_SERVER_DETECTION: "none",
  });
  // No Auth emulator in-process: the account gate asks a model of it (support/authAccounts.ts).
  await installTestAccounts();
  return { firestore, storage };
}

/** Registers before/after hooks: one pair of servers per test file, emptied before each test. */
export function useBackends(): { current: () => Backends } {
  let backends: Backends | undefined;
  before(async () => {
    captureLogs();
    backends = await startBackends();
  });
  beforeEach(async () => {
    backends?.firestore.reset();
    backends?.storage.reset();
    clearCapturedLogs();
    testAccounts.reset();
    (await import("../../src/config/runtimeConfig.js")).clearRuntimeConfigCache();
  });
  after(async () => {
    // firebase-admin keeps gRPC channels open; close them so the test process can exit.
    const { getApps, deleteApp } = await import("firebase-admin/app");
    await Promise.all(getApps().map((app) => deleteApp(app)));
    await backends?.firestore.stop();
    await backends?.storage.stop();
  });
  return { current: () => backends! };
}
