using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Switchyard.Kubernetes.Config;
using Switchyard.Kubernetes.DevApiServer.Http;
using Switchyard.Kubernetes.DevApiServer.Patching;
using Switchyard.Kubernetes.DevApiServer.Schema;
using Switchyard.Kubernetes.DevApiServer.Selectors;

namespace Switchyard.Kubernetes.DevApiServer.Storage;

/// <summary>
/// The in-memory etcd of the double: every object of every resource, one global resourceVersion counter, a bounded
/// event history for watches from a resourceVersion, the open watches, and list snapshots for paging. One lock
/// serialises everything, which is what makes list snapshots, watch backlogs and commits consistent.
/// </summary>
internal sealed partial class ObjectStore
{
    private const string ContinueExpiredMessage =
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _objects = new(StringComparer.Ordinal);
    private readonly LinkedList<HistoryEvent> _history = new();
    private readonly List<Watcher> _watchers = [];
    private readonly Dictionary<string, ListSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly Queue<string> _snapshotOrder = new();
    private readonly int _historyCapacity;
    private long _rv;
    private long _historyStart;
    private bool _watchesPaused;

    public ObjectStore(int historyCapacity)
    {
        _historyCapacity = historyCapacity;
        Registry = new Registry();
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            Create(Registry.FindByGroupResource("namespaces")!, "v1", null,
                new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } }, dryRun: false);
        }
    }

    public Registry Registry { get; }

    public long CurrentResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return _rv;
            }
        }
    }

    public ResourceDefinition? Find(string group, string version, string plural)
    {
        lock (_lock)
        {
            return Registry.Find(group, version, plural);
        }
    }

    public T Read<T>(Func<Registry, T> read)
    {
        lock (_lock)
        {
            return read(Registry);
        }
    }

    // ---------------------------------------------------------------- reads

    public byte[] Get(ResourceDefinition def, string version, string? ns, string name)
    {
        lock (_lock)
        {
            return Lookup(def, ns, name)?.JsonAs(def.ApiVersion(version)) ?? throw ApiError.NotFound(def.Group, def.Plural, name);
        }
    }

    public ListPage List(ResourceDefinition def, string version, string? ns, LabelSelector labels, FieldSelector fields, int? limit, string? continueToken)
    {
        lock (_lock)
        {
            List<StoredObject> items;
            long rv;
            var start = 0;
            if (!string.IsNullOrEmpty(continueToken))
            {
                var (id, rvOfToken, offset) = DecodeContinue(continueToken);
                if (rvOfToken < _historyStart || !_snapshots.TryGetValue(id, out var snapshot))
                {
                    throw ApiError.Gone(ContinueExpiredMessage);
                }

                (items, rv, start) = (snapshot.Items, snapshot.ResourceVersion, Math.Clamp(offset, 0, snapshot.Items.Count));
            }
            else
            {
                items = Matching(def, ns, labels, fields).ToList();
                rv = _rv;
            }

            var apiVersion = def.ApiVersion(version);
            var take = limit is > 0 ? Math.Min(limit.Value, items.Count - start) : items.Count - start;
            var page = items.Skip(start).Take(take).Select(o => o.JsonAs(apiVersion)).ToList();
            string? next = null;
            var remaining = items.Count - start - take;
            if (remaining > 0)
            {
                var id = continueToken is { Length: > 0 } ? DecodeContinue(continueToken).Id : RememberSnapshot(items, rv);
                next = EncodeContinue(id, rv, start + take);
            }

            return new ListPage(page, rv, next, remaining > 0 ? remaining : null);
        }
    }

    private IEnumerable<StoredObject> Matching(ResourceDefinition def, string? ns, LabelSelector labels, FieldSelector fields)
    {
        if (!_objects.TryGetValue(def.GroupResource, out var all))
        {
            yield break;
        }

        foreach (var o in all.Values)
        {
            if ((ns is null || o.Namespace == ns) && labels.Matches(o.Object) && fields.Matches(o.Object))
            {
                yield return o;
            }
        }
    }

    private string RememberSnapshot(List<StoredObject> items, long rv)
    {
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        _snapshots[id] = new ListSnapshot(items, rv);
        _snapshotOrder.Enqueue(id);
        while (_snapshotOrder.Count > 64)
        {
            _snapshots.Remove(_snapshotOrder.Dequeue());
        }

        return id;
    }

    private static string EncodeContinue(string id, long rv, int offset)
    {
        var json = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = rv, ["start"] = offset, ["id"] = id }.ToJsonString();
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static (string Id, long Rv, int Offset) DecodeContinue(string token)
    {
        try
        {
            var b64 = token.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            var o = JsonNode.Parse(Convert.FromBase64String(b64)) as JsonObject ?? throw new FormatException("not an object");
            return ((string?)o["id"] ?? throw new FormatException("no id"), (long?)o["rv"] ?? 0, (int?)o["start"] ?? 0);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            throw ApiError.BadRequest($"invalid continue token: {ex.Message}");
        }
    }

    private StoredObject? Lookup(ResourceDefinition def, string? ns, string name) =>
        _objects.TryGetValue(def.GroupResource, out var all) && all.TryGetValue(def.Namespaced ? $"{ns}/{name}" : name, out var o) ? o : null;

    // ---------------------------------------------------------------- writes

    public StoredObject Create(ResourceDefinition def, string version, string? ns, JsonObject body, bool dryRun)
    {
        lock (_lock)
        {
            return CreateLocked(def, version, ns, body, dryRun);
        }
    }

    private StoredObject CreateLocked(ResourceDefinition def, string version, string? ns, JsonObject body, bool dryRun)
    {
        CheckTypeMeta(def, body);
        var meta = body["metadata"] as JsonObject ?? new JsonObject();
        body["metadata"] = meta;
        if ((string?)meta["name"] is not { Length: > 0 })
        {
            if ((string?)meta["generateName"] is { Length: > 0 } prefix)
            {
                meta["name"] = prefix + RandomSuffix();
            }
            else
            {
                throw ApiError.Invalid(def.Kind, def.Group, "", [("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")]);
            }
        }

        var name = (string)meta["name"]!;
        ValidateName(def, name);
        ApplyNamespace(def, ns, meta);
        if (def.Namespaced && Lookup(Registry.FindByGroupResource("namespaces")!, null, ns!) is null)
        {
            throw ApiError.NotFound("", "namespaces", ns!);
        }

        if (Lookup(def, ns, name) is not null)
        {
            throw ApiError.AlreadyExists(def.Group, def.Plural, name);
        }

        foreach (var key in new[] { "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink" })
        {
            meta.Remove(key);
        }

        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
        if (def.TracksGeneration)
        {
            meta["generation"] = 1;
        }
        else
        {
            meta.Remove("generation");
        }

        if (def.HasStatus && def.IsCustom)
        {
            // apiextensions PrepareForCreate: with the status subresource on, status cannot be set at create.
            body.Remove("status");
        }

        body["apiVersion"] = def.ApiVersion(def.StorageVersion);
        CheckAnnotations(def, meta, name);
        BuiltInDefaults.OnCreate(def, body, this);
        ValidateSchema(def, version, body, null, name);
        ResourceDefinition? crd = def.GroupResource == "customresourcedefinitions.apiextensions.k8s.io" ? Registry.FromCrd(body) : null;
        if (crd is not null)
        {
            CheckCrdConflicts(crd);
            body["status"] = BuiltInDefaults.CrdStatus(body);
        }

        if (dryRun)
        {
            return new StoredObject(body, _rv);
        }

        var stored = Commit(def, new StoredObject(Normalize(body, ++_rv), _rv), null, "ADDED");
        if (crd is not null)
        {
            Registry.Register(crd);
        }

        return stored;
    }

    public StoredObject Update(ResourceDefinition def, string version, string? ns, string name, JsonObject body, bool statusSubresource, bool isPatch, bool dryRun)
    {
        lock (_lock)
        {
            return UpdateLocked(def, version, ns, name, body, statusSubresource, isPatch, dryRun);
        }
    }

    private StoredObject UpdateLocked(ResourceDefinition def, string version, string? ns, string name, JsonObject body, bool statusSubresource, bool isPatch, bool dryRun)
    {
        var old = Lookup(def, ns, name) ?? throw ApiError.NotFound(def.Group, def.Plural, name);
        CheckTypeMeta(def, body);
        var meta = body["metadata"] as JsonObject ?? new JsonObject();
        body["metadata"] = meta;
        if ((string?)meta["name"] is { } bodyName && bodyName != name)
        {
            throw ApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        meta["name"] = name;
        ApplyNamespace(def, ns, meta);

        // :: Optimistic concurrency.
        var rvText = (string?)meta["resourceVersion"];
        if (string.IsNullOrEmpty(rvText))
        {
            if (def.IsCustom && !isPatch)
            {
                throw ApiError.Invalid(def.Kind, def.Group, name, [("metadata.resourceVersion", "FieldValueInvalid", "Invalid value: 0x0: must be specified for an update")]);
            }
        }
        else if (rvText != old.ResourceVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw ApiError.Conflict(def.Group, def.Plural, name);
        }

        var oldObj = old.Object;
        var oldMeta = (JsonObject)oldObj["metadata"]!;
        JsonObject next;
        if (statusSubresource)
        {
            // Status writes keep everything but .status from the stored object.
            next = (JsonObject)oldObj.DeepClone();
            if (body["status"] is { } status)
            {
                next["status"] = status.DeepClone();
            }
            else
            {
                next.Remove("status");
            }
        }
        else
        {
            next = body;
            if (def.HasStatus)
            {
                if (oldObj["status"] is { } oldStatus)
                {
                    next["status"] = oldStatus.DeepClone();
                }
                else
                {
                    next.Remove("status");
                }
            }

            var nextMeta = (JsonObject)next["metadata"]!;
            foreach (var key in new[] { "uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds" })
            {
                if (oldMeta[key] is { } v)
                {
                    nextMeta[key] = v.DeepClone();
                }
                else
                {
                    nextMeta.Remove(key);
                }
            }

            nextMeta.Remove("managedFields");
            nextMeta.Remove("generateName");
            if (oldMeta["generateName"] is { } gn)
            {
                nextMeta["generateName"] = gn.DeepClone();
            }

            if (oldMeta["deletionTimestamp"] is not null)
            {
                var oldFinalizers = Strings(oldMeta["finalizers"]);
                var added = Strings(nextMeta["finalizers"]).Where(f => !oldFinalizers.Contains(f)).ToList();
                if (added.Count > 0)
                {
                    throw ApiError.Invalid(def.Kind, def.Group, name, [("metadata.finalizers", "FieldValueForbidden", $"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{\"{string.Join("\", \"", added)}\"}}")]);
                }
            }
        }

        next["apiVersion"] = def.ApiVersion(def.StorageVersion);
        CheckAnnotations(def, (JsonObject)next["metadata"]!, name);
        BuiltInDefaults.OnUpdate(def, next, oldObj);
        ValidateSchema(def, version, next, oldObj, name);
        ResourceDefinition? crd = def.GroupResource == "customresourcedefinitions.apiextensions.k8s.io" ? Registry.FromCrd(next) : null;
        if (crd is not null)
        {
            next["status"] = BuiltInDefaults.CrdStatus(next);
        }

        // :: Generation: bumped by any change outside .metadata (and outside .status when it is a subresource).
        if (def.TracksGeneration && !JsonNode.DeepEquals(Spec(oldObj, def), Spec(next, def)))
        {
            var gen = oldMeta["generation"] is JsonValue g && g.TryGetValue<long>(out var l) ? l : 0;
            ((JsonObject)next["metadata"]!)["generation"] = gen + 1;
        }

        // :: A write that changes nothing is not a write: same resourceVersion, no event.
        ((JsonObject)next["metadata"]!)["resourceVersion"] = old.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        if (JsonNode.DeepEquals(Normalize(next, old.ResourceVersion), oldObj))
        {
            return old;
        }

        if (dryRun)
        {
            return new StoredObject(Normalize(next, old.ResourceVersion), old.ResourceVersion);
        }

        var nextMetaFinal = (JsonObject)next["metadata"]!;
        if (nextMetaFinal["deletionTimestamp"] is not null && Strings(nextMetaFinal["finalizers"]).Count == 0)
        {
            // The last finalizer is gone: the object disappears, watchers see DELETED.
            return RemoveLocked(def, old, Normalize(next, ++_rv));
        }

        var stored = Commit(def, new StoredObject(Normalize(next, ++_rv), _rv), old, "MODIFIED");
        if (crd is not null)
        {
            Registry.Register(crd);
        }

        return stored;
    }

    public StoredObject Patch(ResourceDefinition def, string version, string? ns, string name, string contentType, string patchText,
        bool statusSubresource, string? fieldManager, bool? force, bool dryRun)
    {
        var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
        if (force is not null && mediaType != "application/apply-patch+yaml")
        {
            throw ApiError.Invalid(def.Kind, def.Group, name, [("force", "FieldValueInvalid", $"Invalid value: {(force.Value ? "true" : "false")}: may not be specified for non-apply patch")]);
        }

        JsonNode? patch;
        try
        {
            patch = mediaType == "application/apply-patch+yaml" ? YamlJson.ParseOne(patchText) : JsonNode.Parse(patchText);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            throw ApiError.BadRequest($"error decoding patch: {ex.Message}");
        }

        lock (_lock)
        {
            var current = Lookup(def, ns, name);
            if (mediaType == "application/apply-patch+yaml")
            {
                if (string.IsNullOrEmpty(fieldManager))
                {
                    throw ApiError.Invalid(def.Kind, def.Group, name, [("fieldManager", "FieldValueRequired", "Required value: is required for apply patch")]);
                }

                if (patch is not JsonObject applied)
                {
                    throw ApiError.BadRequest("apply patch must be an object");
                }

                if (current is null)
                {
                    return CreateLocked(def, version, ns, applied, dryRun);
                }
            }

            if (current is null)
            {
                throw ApiError.NotFound(def.Group, def.Plural, name);
            }

            JsonNode? result;
            try
            {
                result = mediaType switch
                {
                    "application/merge-patch+json" or "application/apply-patch+yaml" => JsonMergePatch.Apply(current.Object, patch),
                    "application/json-patch+json" => JsonPatch.Apply(current.Object, patch),
                    "application/strategic-merge-patch+json" when !def.IsCustom => StrategicMergePatch.Apply(current.Object, patch),
                    _ => throw ApiError.UnsupportedMediaType(contentType),
                };
            }
            catch (JsonPatchException ex)
            {
                throw new ApiError(422, "Invalid", ex.Message);
            }

            if (result is not JsonObject patched)
            {
                throw ApiError.BadRequest("the patch did not produce an object");
            }

            return UpdateLocked(def, version, ns, name, patched, statusSubresource, isPatch: true, dryRun);
        }
    }

    public StoredObject Delete(ResourceDefinition def, string? ns, string name, JsonObject? options, bool dryRun)
    {
        lock (_lock)
        {
            var old = Lookup(def, ns, name) ?? throw ApiError.NotFound(def.Group, def.Plural, name);
            var pre = options?["preconditions"] as JsonObject;
            var meta = (JsonObject)old.Object["metadata"]!;
            if ((string?)pre?["resourceVersion"] is { } prv && prv != old.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new ApiError(409, "Conflict", $"Operation cannot be fulfilled on {ApiError.Qualified(def.Group, def.Plural)} \"{name}\": Precondition failed: ResourceVersion in precondition: {prv}, ResourceVersion in object meta: {old.ResourceVersion}", name, def.Group, def.Plural);
            }

            if ((string?)pre?["uid"] is { } puid && puid != (string?)meta["uid"])
            {
                throw new ApiError(409, "Conflict", $"Operation cannot be fulfilled on {ApiError.Qualified(def.Group, def.Plural)} \"{name}\": Precondition failed: UID in precondition: {puid}, UID in object meta: {(string?)meta["uid"]}", name, def.Group, def.Plural);
            }

            if (dryRun)
            {
                return old;
            }

            if (Strings(meta["finalizers"]).Count > 0)
            {
                if (meta["deletionTimestamp"] is not null)
                {
                    return old;
                }

                // Graceful deletion: mark, bump generation, let the finalizers' owners finish.
                var next = (JsonObject)old.Object.DeepClone();
                var nextMeta = (JsonObject)next["metadata"]!;
                nextMeta["deletionTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
                nextMeta["deletionGracePeriodSeconds"] = 0;
                if (def.TracksGeneration)
                {
                    var gen = nextMeta["generation"] is JsonValue g && g.TryGetValue<long>(out var l) ? l : 0;
                    nextMeta["generation"] = gen + 1;
                }

                return Commit(def, new StoredObject(Normalize(next, ++_rv), _rv), old, "MODIFIED");
            }

            return RemoveLocked(def, old, Normalize((JsonObject)old.Object.DeepClone(), ++_rv));
        }
    }

    private StoredObject RemoveLocked(ResourceDefinition def, StoredObject old, JsonObject last)
    {
        var final = new StoredObject(last, _rv);
        _objects[def.GroupResource].Remove(old.Key);
        Record(def, final, old, "DELETED");

        if (def.GroupResource == "namespaces")
        {
            // Namespace deletion removes everything in it (the namespace controller's job, done at once here).
            foreach (var other in Registry.All.Where(d => d.Namespaced).ToList())
            {
                if (_objects.TryGetValue(other.GroupResource, out var objs))
                {
                    foreach (var o in objs.Values.Where(o => o.Namespace == old.Name).ToList())
                    {
                        objs.Remove(o.Key);
                        Record(other, new StoredObject(Normalize((JsonObject)o.Object.DeepClone(), ++_rv), _rv), o, "DELETED");
                    }
                }
            }
        }
        else if (def.GroupResource == "customresourcedefinitions.apiextensions.k8s.io")
        {
            var groupResource = old.Name;
            if (Registry.FindByGroupResource(groupResource) is { IsCustom: true } crd)
            {
                if (_objects.TryGetValue(groupResource, out var objs))
                {
                    foreach (var o in objs.Values.ToList())
                    {
                        objs.Remove(o.Key);
                        Record(crd, new StoredObject(Normalize((JsonObject)o.Object.DeepClone(), ++_rv), _rv), o, "DELETED");
                    }
                }

                Registry.Unregister(groupResource);
                foreach (var w in _watchers.Where(w => w.GroupResource == groupResource).ToList())
                {
                    w.Close();
                }
            }
        }

        return final;
    }

    private StoredObject Commit(ResourceDefinition def, StoredObject stored, StoredObject? old, string type)
    {
        if (!_objects.TryGetValue(def.GroupResource, out var all))
        {
            all = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            _objects[def.GroupResource] = all;
        }

        all[stored.Key] = stored;
        Record(def, stored, old, type);
        return stored;
    }

    private void Record(ResourceDefinition def, StoredObject obj, StoredObject? old, string type)
    {
        var ev = new HistoryEvent(obj.ResourceVersion, def.GroupResource, type, obj, old);
        _history.AddLast(ev);
        while (_history.Count > _historyCapacity)
        {
            _historyStart = _history.First!.Value.ResourceVersion;
            _history.RemoveFirst();
        }

        foreach (var w in _watchers)
        {
            Deliver(w, ev);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static JsonObject Normalize(JsonObject obj, long rv)
    {
        var meta = (JsonObject)obj["metadata"]!;
        meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        // Re-parse so every stored node is JsonElement-backed and no node is shared with a caller.
        return (JsonObject)JsonNode.Parse(obj.ToJsonString())!;
    }

    private static JsonObject Spec(JsonObject obj, ResourceDefinition def)
    {
        var copy = new JsonObject();
        foreach (var (k, v) in obj)
        {
            if (k is "metadata" or "apiVersion" or "kind" || (def.HasStatus && k == "status"))
            {
                continue;
            }

            copy[k] = v?.DeepClone();
        }

        return copy;
    }

    /// <summary>
    /// The custom resource strategy's validation: the structural schema (pruning, defaulting, OpenAPI checks), then the
    /// CEL rules, unless a type error means the rules would see values of the wrong type.
    /// </summary>
    private static void ValidateSchema(ResourceDefinition def, string version, JsonObject body, JsonObject? old, string name)
    {
        if (!def.IsCustom || !def.Schemas.TryGetValue(version, out var schema))
        {
            return;
        }

        var errors = StructuralSchema.Apply(body, schema);
        if (def.Validators.TryGetValue(version, out var cel))
        {
            if (errors.Any(e => e.Reason == "FieldValueTypeInvalid"))
            {
                errors.Add(("", "FieldValueInvalid", "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"));
            }
            else
            {
                errors.AddRange(cel.Validate(body, old));
            }
        }

        if (errors.Count > 0)
        {
            throw ApiError.Invalid(def.Kind, def.Group, name, errors);
        }
    }

    private void CheckCrdConflicts(ResourceDefinition crd)
    {
        if (Registry.FindByGroupResource(crd.GroupResource) is { IsCustom: false })
        {
            throw ApiError.Invalid("CustomResourceDefinition", "apiextensions.k8s.io", crd.GroupResource, [("spec.group", "FieldValueInvalid", "Invalid value: collides with a built-in resource")]);
        }
    }

    /// <summary>ValidateObjectMeta: the annotations, keys plus values, may not exceed 256 KiB. This is why client-side
    /// apply of large CRDs (its last-applied annotation copies the whole object) fails and --server-side is needed.</summary>
    private static void CheckAnnotations(ResourceDefinition def, JsonObject meta, string name)
    {
        const int limit = 256 * 1024;
        if (meta["annotations"] is not JsonObject annotations)
        {
            return;
        }

        long total = 0;
        foreach (var (k, v) in annotations)
        {
            total += Encoding.UTF8.GetByteCount(k) + (v is JsonValue sv && sv.TryGetValue<string>(out var s) ? Encoding.UTF8.GetByteCount(s) : 0);
        }

        if (total > limit)
        {
            throw ApiError.Invalid(def.Kind, def.Group, name, [("metadata.annotations", "FieldValueTooLong", $"Too long: must have at most {limit} bytes")]);
        }
    }

    private static void CheckTypeMeta(ResourceDefinition def, JsonObject body)
    {
        var kind = (string?)body["kind"];
        var apiVersion = (string?)body["apiVersion"];
        if (kind is not null && kind != def.Kind)
        {
            throw ApiError.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({def.Kind})");
        }

        if (apiVersion is not null && !def.Versions.Any(v => def.ApiVersion(v) == apiVersion))
        {
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({def.ApiVersion(def.StorageVersion)})");
        }

        body["kind"] = def.Kind;
    }

    private static void ApplyNamespace(ResourceDefinition def, string? ns, JsonObject meta)
    {
        if (!def.Namespaced)
        {
            meta.Remove("namespace");
            return;
        }

        if ((string?)meta["namespace"] is { Length: > 0 } bodyNs && bodyNs != ns)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        meta["namespace"] = ns;
    }

    private static void ValidateName(ResourceDefinition def, string name)
    {
        // RFC 1123 subdomain, as metadata.name of most kinds must be.
        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
        {
            throw ApiError.Invalid(def.Kind, def.Group, name, [("metadata.name", "FieldValueInvalid",
                $"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial System.Text.RegularExpressions.Regex DnsSubdomain();

    internal static List<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList() : [];

    internal static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string RandomSuffix()
    {
        // The alphabet of k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable digits.
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }

    internal sealed record ListPage(List<byte[]> Items, long ResourceVersion, string? Continue, long? RemainingItemCount);

    private sealed record ListSnapshot(List<StoredObject> Items, long ResourceVersion);

    private sealed record HistoryEvent(long ResourceVersion, string GroupResource, string Type, StoredObject Object, StoredObject? Old);
}
