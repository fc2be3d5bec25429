// iOS (Swift, Firebase Apple SDK 12: FirebaseAuth, FirebaseFunctions, FirebaseFirestore, FirebaseAppCheck).
// Register an App Check provider (App Attest, or DeviceCheck) with AppCheck.setAppCheckProviderFactory(_:)
// before FirebaseApp.configure(). Against `npm start`: Auth.auth().useEmulator(withHost: "127.0.0.1", port: 9099)
// and functions.useEmulator(withHost: "127.0.0.1", port: 5001).
import FirebaseAppCheck
import FirebaseAuth
import FirebaseFirestore
import FirebaseFunctions
import Foundation

let functions = Functions.functions(region: "us-central1")
let projectId = "your-project-id"
let policyVersion = "2026-11" // the privacy policy the user agreed to
let ended: Set<String> = ["succeeded", "failed", "cancelled", "expired"]

// createJob costs money, so the function consumes its App Check token (replay protection):
// call it with limited-use tokens. Allow up to 540 s, the function's own timeout.
let createJob: HTTPSCallable = {
  let callable = functions.httpsCallable("createJob",
                                         options: HTTPSCallableOptions(requireLimitedUseAppCheckTokens: true))
  callable.timeoutInterval = 540
  return callable
}()

/// createJob, retried with the SAME requestId while the user's quota says "later".
func createJobRetryingQuota(_ request: [String: Any], maxWait: Double = 120) async throws -> [String: Any] {
  while true {
    do {
      return try await createJob.call(request).data as? [String: Any] ?? [:]
    } catch let error as NSError where error.domain == FunctionsErrorDomain
      && FunctionsErrorCode(rawValue: error.code) == .resourceExhausted {
      // details: ["reason": "quota-hourly", "retryAfterSeconds": 1200, "retryAt": "…"]
      let details = error.userInfo[FunctionsErrorDetailsKey] as? [String: Any]
      guard let wait = (details?["retryAfterSeconds"] as? NSNumber)?.doubleValue, wait <= maxWait else {
        throw error // show error.localizedDescription
      }
      try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
    }
  }
}

/// An image feature: the result comes back inline, once.
func restyle(jpeg: Data) async throws -> Data? {
  if Auth.auth().currentUser == nil { _ = try await Auth.auth().signInAnonymously() }
  let job = try await createJobRetryingQuota([
    "requestId": UUID().uuidString, // one per new job; reuse it only to retry this job
    "feature": "style",
    "style": "sketch",
    "image": ["base64": jpeg.base64EncodedString(), "mimeType": "image/jpeg"],
    "consent": ["faceDataProcessing": true, "policyVersion": policyVersion],
  ])
  let result = job["result"] as? [String: Any]
  return (result?["base64"] as? String).flatMap { Data(base64Encoded: $0) }
}

/// Listens to jobs/{jobId} (its owner may read it; it holds no face data) until the job ends.
func waitForJob(_ jobId: String, progress: @escaping (Int) -> Void) async throws -> String {
  let job = Firestore.firestore().collection("jobs").document(jobId)
  return try await withCheckedThrowingContinuation { continuation in
    var registration: ListenerRegistration?
    var done = false
    registration = job.addSnapshotListener { snapshot, error in
      guard !done else { return }
      if let error {
        done = true; registration?.remove(); continuation.resume(throwing: error); return
      }
      guard let data = snapshot?.data(), let status = data["status"] as? String else { return }
      if let percent = data["progress"] as? Int { progress(percent) }
      if ended.contains(status) {
        done = true; registration?.remove(); continuation.resume(returning: status)
      }
    }
  }
}

/// A video: createJob answers at once; wait for the job, download the video, acknowledge it.
func animate(jpeg: Data) async throws -> URL {
  let job = try await createJobRetryingQuota([
    "requestId": UUID().uuidString,
    "feature": "video",
    "prompt": "a gentle smile",
    "image": ["uploadId": try await uploadImage(jpeg: jpeg)], // or inline base64, as above
    "consent": ["faceDataProcessing": true, "policyVersion": policyVersion],
  ])
  guard let jobId = job["jobId"] as? String else { throw URLError(.badServerResponse) }
  _ = try await waitForJob(jobId) { percent in print("video \(percent)%") }
  let answer = try await functions.httpsCallable("getJobResult").call(["jobId": jobId]).data as? [String: Any]
  guard let result = answer?["result"] as? [String: Any],
        let url = (result["url"] as? String).flatMap(URL.init(string:)) else {
    throw URLError(.resourceUnavailable) // answer["error"] says why the job did not succeed
  }
  let (downloaded, _) = try await URLSession.shared.download(from: url) // a signed URL: no auth header
  let video = FileManager.default.temporaryDirectory.appendingPathComponent("\(jobId).mp4")
  try? FileManager.default.removeItem(at: video)
  try FileManager.default.moveItem(at: downloaded, to: video)
  _ = try await functions.httpsCallable("ackJobResult").call(["jobId": jobId]) // delete our copy now
  return video
}

/// uploadImage is plain HTTPS: the ID token and an App Check token go in headers.
func uploadImage(jpeg: Data) async throws -> String {
  guard let user = Auth.auth().currentUser else { throw URLError(.userAuthenticationRequired) }
  let idToken = try await user.getIDToken()
  let appCheckToken = try await AppCheck.appCheck().token(forcingRefresh: false).token
  let boundary = UUID().uuidString
  var request = URLRequest(url: URL(string: "https://us-central1-\(projectId).cloudfunctions.net/uploadImage")!)
  request.httpMethod = "POST"
  request.setValue("Bearer \(idToken)", forHTTPHeaderField: "Authorization")
  request.setValue(appCheckToken, forHTTPHeaderField: "X-Firebase-AppCheck")
  request.setValue("multipart/form-data; boundary=\(boundary)", forHTTPHeaderField: "Content-Type")
  var body = Data() // exactly one part, named "file"
  body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8))
  body.append(jpeg)
  body.append(Data("\r\n--\(boundary)--\r\n".utf8))
  let (data, response) = try await URLSession.shared.upload(for: request, from: body)
  let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
  guard (response as? HTTPURLResponse)?.statusCode == 200, let uploadId = json?["uploadId"] as? String else {
    let error = json?["error"] as? [String: Any] // ["code": …, "message": …, "reason": …]
    throw NSError(domain: "uploadImage", code: (response as? HTTPURLResponse)?.statusCode ?? 0,
                  userInfo: [NSLocalizedDescriptionKey: error?["message"] as? String ?? "upload failed"])
  }
  return uploadId // use it once, within UPLOAD_TTL_MINUTES
}

/// The privacy rights: know, opt out, delete.
func privacyRights() async throws {
  let exported = try await functions.httpsCallable("exportMyData").call([:]).data
  print(exported)
  _ = try await functions.httpsCallable("setPrivacyChoices").call(["optOutOfSale": true, "optOutOfSharing": true])
  let deleteMyData = functions.httpsCallable("deleteMyData")
  deleteMyData.timeoutInterval = 540
  _ = try await deleteMyData.call(["deleteAccount": true])
  try Auth.auth().signOut()
}
