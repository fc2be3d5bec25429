/**
 * A Firebase JS client as the mobile app uses it: anonymous sign-in on the Auth emulator and
 * callables through the Functions emulator. Shared by the smoke script and the end-to-end tests.
 */
import { deleteApp, initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";

export interface ClientOptions {
  projectId?: string;
  host?: string;
  authPort?: number;
  functionsPort?: number;
  /** Sign in anonymously (default); false gives a client with no Auth at all. */
  signIn?: boolean;
}

export async function emulatorClient(o: ClientOptions = {}) {
  const host = o.host ?? "127.0.0.1";
  const app = initializeApp({ projectId: o.projectId ?? "demo-photo-fixer", apiKey: "fake-api-key" }, `client-${Math.random()}`);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://${host}:${o.authPort ?? 9099}`, { disableWarnings: true });
  const user = o.signIn === false ? undefined : (await signInAnonymously(auth)).user;
  // Callables are deployed to us-central1, the firebase-functions v2 default.
  const functions = getFunctions(app, "us-central1");
  connectFunctionsEmulator(functions, host, o.functionsPort ?? 5001);
  return {
    uid: user?.uid,
    call: async <T = unknown>(name: string, data: unknown): Promise<T> => (await httpsCallable<unknown, T>(functions, name, { timeout: 120_000 })(data)).data,
    close: () => deleteApp(app),
  };
}

export type EmulatorClient = Awaited<ReturnType<typeof emulatorClient>>;
