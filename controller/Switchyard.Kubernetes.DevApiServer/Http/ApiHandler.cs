using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchyard.Kubernetes.Config;
using Switchyard.Kubernetes.DevApiServer.Logs;
using Switchyard.Kubernetes.DevApiServer.Selectors;
using Switchyard.Kubernetes.DevApiServer.Storage;

namespace Switchyard.Kubernetes.DevApiServer.Http;

/// <summary>Routes every request the way kube-apiserver lays out its paths, and maps failures to Status objects.</summary>
internal sealed class ApiHandler(ObjectStore store, DevApiServerOptions options, Func<string> serverAddress)
{
    /// <summary>The server's default request body limit (3 MiB, like kube-apiserver's).</summary>
    private const int MaxBodyBytes = 3 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await RouteAsync(context).ConfigureAwait(false);
        }
        catch (ApiError error)
        {
            // Logged so a reader of the request log can tell refused requests (a 409 Conflict a writer retries) from
            // those that took effect.
            options.Log?.Invoke($"rejected {error.Code} {context.Request.Method} {context.Request.Path}");
            await WriteJsonAsync(context, error.Code, error.ToStatus()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException or ArgumentException)
        {
            // A body of the wrong shape (a number where a string belongs, say) is the client's error, not ours.
            await WriteJsonAsync(context, 400, ApiError.BadRequest(ex.Message).ToStatus()).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var segs = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        options.Log?.Invoke($"{context.Request.Method} {path}{context.Request.QueryString}");
        if (segs.Length == 0)
        {
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        string group, version;
        string[] rest;
        switch (segs[0])
        {
            case "version" when segs.Length == 1:
                await WriteJsonAsync(context, 200, Discovery.Version()).ConfigureAwait(false);
                return;
            case "api" when segs.Length == 1:
                await WriteJsonAsync(context, 200, Discovery.ApiVersions(serverAddress())).ConfigureAwait(false);
                return;
            case "api" when segs[1] == "v1":
                (group, version, rest) = ("", "v1", segs[2..]);
                break;
            case "apis" when segs.Length == 1:
                await WriteJsonAsync(context, 200, store.Read(Discovery.GroupList)).ConfigureAwait(false);
                return;
            case "apis" when segs.Length == 2:
                var versions = store.Read(r => r.Groups().FirstOrDefault(g => g.Group == segs[1]).Versions);
                if (versions is null)
                {
                    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
                }

                await WriteJsonAsync(context, 200, Discovery.Group(segs[1], versions)).ConfigureAwait(false);
                return;
            case "apis":
                (group, version, rest) = (segs[1], segs[2], segs[3..]);
                break;
            default:
                // /openapi/v2 and /openapi/v3 included: without OpenAPI, kubectl needs --validate=false.
                throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        if (rest.Length == 0)
        {
            var list = store.Read(r => r.All.Any(d => d.Group == group && d.Versions.Contains(version)) ? Discovery.ResourceList(r, group, version) : null)
                ?? throw new ApiError(404, "NotFound", "the server could not find the requested resource");
            await WriteJsonAsync(context, 200, list).ConfigureAwait(false);
            return;
        }

        string? ns = null;
        if (rest[0] == "namespaces" && rest.Length >= 3 && store.Find(group, version, rest[2]) is { Namespaced: true })
        {
            ns = rest[1];
            rest = rest[2..];
        }

        var def = store.Find(group, version, rest[0]);
        if (def is null || rest.Length > 3 || (ns is not null && !def.Namespaced))
        {
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        var name = rest.Length > 1 ? rest[1] : null;
        var sub = rest.Length > 2 ? rest[2] : null;
        if (sub == "log" && group.Length == 0 && def.Plural == "pods" && ns is not null && name is not null)
        {
            if (context.Request.Method != "GET")
            {
                throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource ({context.Request.Method})");
            }

            _ = store.Get(def, version, ns, name); // 404 for a Pod that does not exist, before any kubelet is asked.
            await PodLogs.ServeAsync(context, options.PodLogs, ns, name, TimeProvider.System).ConfigureAwait(false);
            return;
        }

        if (sub is not null && (sub != "status" || !def.HasStatus))
        {
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        if (name is not null && def.Namespaced && ns is null)
        {
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        var query = context.Request.Query;
        var dryRun = query.ContainsKey("dryRun");
        var method = context.Request.Method;
        switch (method)
        {
            case "GET" when name is null && query["watch"] is var w && (w == "1" || w == "true"):
                await WatchAsync(context, def, version, ns).ConfigureAwait(false);
                return;
            case "GET" when name is null:
                await ListAsync(context, def, version, ns).ConfigureAwait(false);
                return;
            case "GET" when Tables.Wanted(context.Request):
                var one = (JsonObject)JsonNode.Parse(store.Get(def, version, ns, name))!;
                await WriteJsonAsync(context, 200, Tables.Build(def, version, [one], Tables.IncludeObject(context.Request), true, null, null)).ConfigureAwait(false);
                return;
            case "GET":
                await WriteBytesAsync(context, 200, store.Get(def, version, ns, name)).ConfigureAwait(false);
                return;
            case "POST" when name is null:
                if (def.Namespaced && ns is null)
                {
                    throw ApiError.MethodNotAllowed("a namespace is required to create a namespaced resource");
                }

                var created = store.Create(def, version, ns, await ReadObjectAsync(context).ConfigureAwait(false), dryRun);
                await WriteBytesAsync(context, 201, created.JsonAs(def.ApiVersion(version))).ConfigureAwait(false);
                return;
            case "PUT" when name is not null:
                var updated = store.Update(def, version, ns, name, await ReadObjectAsync(context).ConfigureAwait(false), sub == "status", isPatch: false, dryRun);
                await WriteBytesAsync(context, 200, updated.JsonAs(def.ApiVersion(version))).ConfigureAwait(false);
                return;
            case "PATCH" when name is not null:
                var text = Encoding.UTF8.GetString(await ReadBodyAsync(context).ConfigureAwait(false));
                bool? force = query.TryGetValue("force", out var f) ? f == "true" || f == "1" : null;
                var patched = store.Patch(def, version, ns, name, context.Request.ContentType ?? "", text, sub == "status",
                    query["fieldManager"].FirstOrDefault(), force, dryRun);
                await WriteBytesAsync(context, 200, patched.JsonAs(def.ApiVersion(version))).ConfigureAwait(false);
                return;
            case "DELETE" when name is not null && sub is null:
                var body = await ReadBodyAsync(context).ConfigureAwait(false);
                var deleteOptions = body.Length == 0 ? null : ParseObject(body);
                var deleted = store.Delete(def, ns, name, deleteOptions, dryRun);
                await WriteBytesAsync(context, 200, deleted.JsonAs(def.ApiVersion(version))).ConfigureAwait(false);
                return;
            case "DELETE" when name is null:
                await DeleteCollectionAsync(context, def, version, ns, dryRun).ConfigureAwait(false);
                return;
            default:
                throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource ({method})");
        }
    }

    private async Task ListAsync(HttpContext context, ResourceDefinition def, string version, string? ns)
    {
        var query = context.Request.Query;
        int? limit = null;
        if (query["limit"].FirstOrDefault() is { Length: > 0 } l)
        {
            limit = int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var li) ? li : throw ApiError.BadRequest($"invalid limit \"{l}\"");
        }

        var page = store.List(def, version, ns, LabelSelector.Parse(query["labelSelector"]), FieldSelector.Parse(query["fieldSelector"], def.GroupResource),
            limit, query["continue"].FirstOrDefault());
        if (Tables.Wanted(context.Request))
        {
            var objects = page.Items.Select(i => (JsonObject)JsonNode.Parse(i)!).ToList();
            await WriteJsonAsync(context, 200, Tables.Build(def, version, objects, Tables.IncludeObject(context.Request), true,
                page.ResourceVersion.ToString(CultureInfo.InvariantCulture), page.Continue)).ConfigureAwait(false);
            return;
        }

        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("kind", def.ListKind);
            writer.WriteString("apiVersion", def.ApiVersion(version));
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", page.ResourceVersion.ToString(CultureInfo.InvariantCulture));
            if (page.Continue is not null)
            {
                writer.WriteString("continue", page.Continue);
            }

            if (page.RemainingItemCount is { } remaining)
            {
                writer.WriteNumber("remainingItemCount", remaining);
            }

            writer.WriteEndObject();
            writer.WriteStartArray("items");
            foreach (var item in page.Items)
            {
                writer.WriteRawValue(item, skipInputValidation: true);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await WriteBytesAsync(context, 200, buffer.ToArray()).ConfigureAwait(false);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceDefinition def, string version, string? ns, bool dryRun)
    {
        var query = context.Request.Query;
        var page = store.List(def, version, ns, LabelSelector.Parse(query["labelSelector"]), FieldSelector.Parse(query["fieldSelector"], def.GroupResource), null, null);
        var items = new JsonArray();
        foreach (var raw in page.Items)
        {
            var obj = (JsonObject)JsonNode.Parse(raw)!;
            var meta = obj["metadata"]!;
            try
            {
                var deleted = store.Delete(def, (string?)meta["namespace"], (string)meta["name"]!, null, dryRun);
                items.Add(JsonNode.Parse(deleted.Json));
            }
            catch (ApiError e) when (e.Code == 404)
            {
                // Deleted concurrently: nothing left to do.
            }
        }

        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = def.ListKind,
            ["apiVersion"] = def.ApiVersion(version),
            ["metadata"] = new JsonObject { ["resourceVersion"] = store.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["items"] = items,
        }).ConfigureAwait(false);
    }

    private async Task WatchAsync(HttpContext context, ResourceDefinition def, string version, string? ns)
    {
        var query = context.Request.Query;
        var bookmarks = query["allowWatchBookmarks"] == "true" || query["allowWatchBookmarks"] == "1";
        Func<byte[], byte[]>? render = null;
        if (Tables.Wanted(context.Request))
        {
            // Like the real server, only the first Table event carries the column definitions.
            var headers = true;
            var include = Tables.IncludeObject(context.Request);
            render = obj =>
            {
                var parsed = (JsonObject)JsonNode.Parse(obj)!;
                if (parsed["metadata"]?["name"] is null)
                {
                    // A bookmark: passed through untouched.
                    return obj;
                }

                var table = Tables.Build(def, version, [parsed], include, headers, null, null);
                headers = false;
                return Encoding.UTF8.GetBytes(table.ToJsonString());
            };
        }

        var watcher = store.StartWatch(def, version, ns, LabelSelector.Parse(query["labelSelector"]), FieldSelector.Parse(query["fieldSelector"], def.GroupResource),
            query["resourceVersion"].FirstOrDefault(), bookmarks, render);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (query["timeoutSeconds"].FirstOrDefault() is { Length: > 0 } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var bookmarkLoop = bookmarks ? BookmarkLoopAsync(watcher, cts.Token) : Task.CompletedTask;
        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(cts.Token).ConfigureAwait(false);
            await foreach (var line in watcher.Events.Reader.ReadAllAsync(cts.Token).ConfigureAwait(false))
            {
                await context.Response.Body.WriteAsync(line, cts.Token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // timeoutSeconds elapsed or the client left: the watch simply ends.
        }
        catch (IOException)
        {
            // The connection broke mid-write: nothing left to tell the client.
        }
        finally
        {
            store.StopWatch(watcher);
            await cts.CancelAsync().ConfigureAwait(false);
            try
            {
                await bookmarkLoop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected.
            }
        }
    }

    private async Task BookmarkLoopAsync(Watcher watcher, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.BookmarkInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            store.Bookmark(watcher);
        }
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var contentType = context.Request.ContentType ?? "application/json";
        if (contentType.Contains("yaml", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return YamlJson.ParseOne(Encoding.UTF8.GetString(body)) as JsonObject ?? throw ApiError.BadRequest("the body is not an object");
            }
            catch (FormatException ex)
            {
                throw ApiError.BadRequest($"error decoding YAML: {ex.Message}");
            }
        }

        return ParseObject(body);
    }

    private static JsonObject ParseObject(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw ApiError.BadRequest("the body is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw ApiError.BadRequest($"error decoding JSON (RFC 8259): {ex.Message}");
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw new ApiError(413, "RequestEntityTooLarge", $"the request body exceeds {MaxBodyBytes} bytes");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new ApiError(413, "RequestEntityTooLarge", $"the request body exceeds {MaxBodyBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static Task WriteJsonAsync(HttpContext context, int code, JsonObject body) =>
        WriteBytesAsync(context, code, Encoding.UTF8.GetBytes(body.ToJsonString()));

    private static async Task WriteBytesAsync(HttpContext context, int code, byte[] body)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
