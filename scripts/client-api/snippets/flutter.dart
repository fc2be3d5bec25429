// Flutter (Dart): firebase_core, firebase_auth, cloud_functions, cloud_firestore, firebase_app_check,
// http and uuid. Activate App Check (Play Integrity / App Attest) at startup. Against `npm start`:
// FirebaseAuth.instance.useAuthEmulator('127.0.0.1', 9099) and functions.useFunctionsEmulator('127.0.0.1', 5001).
import 'dart:convert';
import 'dart:typed_data';

import 'package:cloud_firestore/cloud_firestore.dart';
import 'package:cloud_functions/cloud_functions.dart';
import 'package:firebase_app_check/firebase_app_check.dart';
import 'package:firebase_auth/firebase_auth.dart';
import 'package:http/http.dart' as http;
import 'package:uuid/uuid.dart';

final functions = FirebaseFunctions.instanceFor(region: 'us-central1');
const projectId = 'your-project-id';
const policyVersion = '2026-11'; // the privacy policy the user agreed to
const ended = {'succeeded', 'failed', 'cancelled', 'expired'};

// createJob costs money, so the function consumes its App Check token (replay protection):
// call it with limited-use tokens. Allow up to 540 s, the function's own timeout.
final createJob = functions.httpsCallable('createJob',
    options: HttpsCallableOptions(timeout: const Duration(seconds: 540), limitedUseAppCheckToken: true));

/// createJob, retried with the SAME requestId while the user's quota says "later".
Future<Map<String, dynamic>> createJobRetryingQuota(Map<String, dynamic> request, {int maxWaitSeconds = 120}) async {
  while (true) {
    try {
      final result = await createJob.call(request);
      return Map<String, dynamic>.from(result.data as Map);
    } on FirebaseFunctionsException catch (e) {
      // e.details: {reason: quota-hourly, retryAfterSeconds: 1200, retryAt: …}
      final wait = (e.details as Map?)?['retryAfterSeconds'] as num?;
      if (e.code != 'resource-exhausted' || wait == null || wait > maxWaitSeconds) rethrow; // show e.message
      await Future<void>.delayed(Duration(seconds: wait.ceil()));
    }
  }
}

/// An image feature: the result comes back inline, once.
Future<Uint8List?> restyle(Uint8List jpeg) async {
  if (FirebaseAuth.instance.currentUser == null) await FirebaseAuth.instance.signInAnonymously();
  final job = await createJobRetryingQuota({
    'requestId': const Uuid().v4(), // one per new job; reuse it only to retry this job
    'feature': 'style',
    'style': 'sketch',
    'image': {'base64': base64Encode(jpeg), 'mimeType': 'image/jpeg'},
    'consent': {'faceDataProcessing': true, 'policyVersion': policyVersion},
  });
  final result = job['result'] as Map?;
  return result == null ? null : base64Decode(result['base64'] as String);
}

/// Listens to jobs/{jobId} (its owner may read it; it holds no face data) until the job ends.
Future<String> waitForJob(String jobId, {void Function(int percent)? onProgress}) async {
  await for (final snapshot in FirebaseFirestore.instance.collection('jobs').doc(jobId).snapshots()) {
    final job = snapshot.data();
    if (job == null) continue;
    final progress = job['progress'];
    if (progress is num) onProgress?.call(progress.toInt());
    final status = job['status'] as String;
    if (ended.contains(status)) return status; // leaving the loop stops the listener
  }
  throw StateError('the listener closed before the job ended');
}

/// A video: createJob answers at once; wait for the job, download the video, acknowledge it.
Future<Uint8List> animate(Uint8List jpeg) async {
  final job = await createJobRetryingQuota({
    'requestId': const Uuid().v4(),
    'feature': 'video',
    'prompt': 'a gentle smile',
    'image': {'uploadId': await uploadImage(jpeg)}, // or inline base64, as above
    'consent': {'faceDataProcessing': true, 'policyVersion': policyVersion},
  });
  final jobId = job['jobId'] as String;
  await waitForJob(jobId, onProgress: (percent) => print('video $percent%'));
  final answer = Map<String, dynamic>.from(
      (await functions.httpsCallable('getJobResult').call({'jobId': jobId})).data as Map);
  final result = answer['result'] as Map?;
  if (result == null) throw StateError('video job ${answer['status']}: ${answer['error']}');
  final video = await http.get(Uri.parse(result['url'] as String)); // a signed URL: no auth header
  await functions.httpsCallable('ackJobResult').call({'jobId': jobId}); // delete our copy now
  return video.bodyBytes;
}

/// uploadImage is plain HTTPS: the ID token and an App Check token go in headers.
Future<String> uploadImage(Uint8List jpeg) async {
  final user = FirebaseAuth.instance.currentUser!;
  final request = http.MultipartRequest(
      'POST', Uri.parse('https://us-central1-$projectId.cloudfunctions.net/uploadImage'))
    ..headers['Authorization'] = 'Bearer ${await user.getIdToken()}'
    ..headers['X-Firebase-AppCheck'] = (await FirebaseAppCheck.instance.getToken()) ?? ''
    // Exactly one part, named "file"; its type is read from the bytes.
    ..files.add(http.MultipartFile.fromBytes('file', jpeg, filename: 'photo.jpg'));
  final response = await http.Response.fromStream(await request.send());
  final json = jsonDecode(response.body) as Map<String, dynamic>;
  if (response.statusCode != 200) {
    final error = json['error'] as Map<String, dynamic>; // {code, message, reason}
    throw Exception('${error['code']} (${error['reason']}): ${error['message']}');
  }
  return json['uploadId'] as String; // use it once, within UPLOAD_TTL_MINUTES
}

/// The privacy rights: know, opt out, delete.
Future<void> privacyRights() async {
  final exported = (await functions.httpsCallable('exportMyData').call(<String, dynamic>{})).data;
  print(exported);
  await functions.httpsCallable('setPrivacyChoices').call({'optOutOfSale': true, 'optOutOfSharing': true});
  await functions
      .httpsCallable('deleteMyData', options: HttpsCallableOptions(timeout: const Duration(seconds: 540)))
      .call({'deleteAccount': true});
  await FirebaseAuth.instance.signOut();
}
