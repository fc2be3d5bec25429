// Android (Kotlin, Firebase Android BoM 34+: firebase-auth, firebase-functions, firebase-firestore,
// firebase-appcheck-playintegrity; kotlinx-coroutines-play-services for await()).
// At startup: Firebase.appCheck.installAppCheckProviderFactory(PlayIntegrityAppCheckProviderFactory.getInstance()).
// Against `npm start` (from the Android emulator): Firebase.auth.useEmulator("10.0.2.2", 9099) and
// functions.useEmulator("10.0.2.2", 5001).
import android.util.Base64
import com.google.firebase.Firebase
import com.google.firebase.appcheck.appCheck
import com.google.firebase.auth.auth
import com.google.firebase.firestore.firestore
import com.google.firebase.functions.FirebaseFunctionsException
import com.google.firebase.functions.functions
import com.google.firebase.functions.getHttpsCallable
import java.io.File
import java.net.HttpURLConnection
import java.net.URL
import java.util.UUID
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.tasks.await
import kotlinx.coroutines.withContext
import org.json.JSONObject

val functions = Firebase.functions("us-central1")
const val PROJECT_ID = "your-project-id"
const val POLICY_VERSION = "2026-11" // the privacy policy the user agreed to
val ENDED = setOf("succeeded", "failed", "cancelled", "expired")

// createJob costs money, so the function consumes its App Check token (replay protection):
// call it with limited-use tokens. Allow up to 540 s, the function's own timeout.
val createJob = functions.getHttpsCallable("createJob") { limitedUseAppCheckTokens = true }
    .apply { setTimeout(540, TimeUnit.SECONDS) }

/** createJob, retried with the SAME requestId while the user's quota says "later". */
suspend fun createJobRetryingQuota(request: Map<String, Any>, maxWaitSeconds: Long = 120): Map<*, *> {
    while (true) {
        try {
            return createJob.call(request).await().data as Map<*, *>
        } catch (e: FirebaseFunctionsException) {
            // e.details: {reason=quota-hourly, retryAfterSeconds=1200, retryAt=…}
            val wait = ((e.details as? Map<*, *>)?.get("retryAfterSeconds") as? Number)?.toLong()
            if (e.code != FirebaseFunctionsException.Code.RESOURCE_EXHAUSTED || wait == null || wait > maxWaitSeconds) {
                throw e // show e.message
            }
            delay(wait * 1000)
        }
    }
}

/** An image feature: the result comes back inline, once. */
suspend fun restyle(jpeg: ByteArray): ByteArray? {
    if (Firebase.auth.currentUser == null) Firebase.auth.signInAnonymously().await()
    val job = createJobRetryingQuota(
        mapOf(
            "requestId" to UUID.randomUUID().toString(), // one per new job; reuse it only to retry this job
            "feature" to "style",
            "style" to "sketch",
            "image" to mapOf("base64" to Base64.encodeToString(jpeg, Base64.NO_WRAP), "mimeType" to "image/jpeg"),
            "consent" to mapOf("faceDataProcessing" to true, "policyVersion" to POLICY_VERSION),
        ),
    )
    val result = job["result"] as? Map<*, *> ?: return null
    return Base64.decode(result["base64"] as String, Base64.DEFAULT)
}

/** Listens to jobs/{jobId} (its owner may read it; it holds no face data) until the job ends. */
suspend fun waitForJob(jobId: String, onProgress: (Int) -> Unit = {}): String {
    val status = CompletableDeferred<String>()
    val registration = Firebase.firestore.collection("jobs").document(jobId)
        .addSnapshotListener { snapshot, error ->
            if (error != null) {
                status.completeExceptionally(error)
                return@addSnapshotListener
            }
            val current = snapshot?.getString("status") ?: return@addSnapshotListener
            snapshot.getLong("progress")?.let { onProgress(it.toInt()) }
            if (current in ENDED) status.complete(current)
        }
    try {
        return status.await()
    } finally {
        registration.remove()
    }
}

/** A video: createJob answers at once; wait for the job, download the video, acknowledge it. */
suspend fun animate(jpeg: ByteArray, target: File) {
    val job = createJobRetryingQuota(
        mapOf(
            "requestId" to UUID.randomUUID().toString(),
            "feature" to "video",
            "prompt" to "a gentle smile",
            "image" to mapOf("uploadId" to uploadImage(jpeg)), // or inline base64, as above
            "consent" to mapOf("faceDataProcessing" to true, "policyVersion" to POLICY_VERSION),
        ),
    )
    val jobId = job["jobId"] as String
    waitForJob(jobId) { percent -> println("video $percent%") }
    val answer = functions.getHttpsCallable("getJobResult").call(mapOf("jobId" to jobId)).await().data as Map<*, *>
    val result = answer["result"] as? Map<*, *> ?: error("video job ${answer["status"]}: ${answer["error"]}")
    withContext(Dispatchers.IO) { // a signed URL: no auth header
        URL(result["url"] as String).openStream().use { input -> target.outputStream().use { input.copyTo(it) } }
    }
    functions.getHttpsCallable("ackJobResult").call(mapOf("jobId" to jobId)).await() // delete our copy now
}

/** uploadImage is plain HTTPS: the ID token and an App Check token go in headers. */
suspend fun uploadImage(jpeg: ByteArray): String = withContext(Dispatchers.IO) {
    val idToken = Firebase.auth.currentUser!!.getIdToken(false).await().token!!
    val appCheckToken = Firebase.appCheck.getAppCheckToken(false).await().token
    val boundary = UUID.randomUUID().toString()
    val connection = URL("https://us-central1-$PROJECT_ID.cloudfunctions.net/uploadImage").openConnection() as HttpURLConnection
    connection.requestMethod = "POST"
    connection.doOutput = true
    connection.setRequestProperty("Authorization", "Bearer $idToken")
    connection.setRequestProperty("X-Firebase-AppCheck", appCheckToken)
    connection.setRequestProperty("Content-Type", "multipart/form-data; boundary=$boundary")
    connection.outputStream.use { out -> // exactly one part, named "file"
        out.write("--$boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".toByteArray())
        out.write(jpeg)
        out.write("\r\n--$boundary--\r\n".toByteArray())
    }
    val ok = connection.responseCode == 200
    val json = JSONObject((if (ok) connection.inputStream else connection.errorStream).bufferedReader().use { it.readText() })
    if (!ok) {
        val error = json.getJSONObject("error") // {code, message, reason}
        throw IllegalStateException("${error.getString("code")} (${error.getString("reason")}): ${error.getString("message")}")
    }
    json.getString("uploadId") // use it once, within UPLOAD_TTL_MINUTES
}

/** The privacy rights: know, opt out, delete. */
suspend fun privacyRights() {
    val exported = functions.getHttpsCallable("exportMyData").call(emptyMap<String, Any>()).await().data
    println(exported)
    functions.getHttpsCallable("setPrivacyChoices").call(mapOf("optOutOfSale" to true, "optOutOfSharing" to true)).await()
    functions.getHttpsCallable("deleteMyData").apply { setTimeout(540, TimeUnit.SECONDS) }
        .call(mapOf("deleteAccount" to true)).await()
    Firebase.auth.signOut()
}
