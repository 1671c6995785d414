using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Switchyard.Kubernetes.DevApiServer.Http;
using Switchyard.Kubernetes.DevApiServer.Selectors;

namespace Switchyard.Kubernetes.DevApiServer.Storage;

/// <summary>One open watch: its filter and the queue of ready-to-write event lines.</summary>
internal sealed class Watcher
{
    public required string GroupResource { get; init; }

    public required string? Namespace { get; init; }

    public required LabelSelector Labels { get; init; }

    public required FieldSelector Fields { get; init; }

    public required string ApiVersion { get; init; }

    public required string Kind { get; init; }

    public required bool Bookmarks { get; init; }

    public long LastResourceVersion { get; set; }

    /// <summary>Turns an event's object into what is sent (a Table row for kubectl), or null to send it as is.</summary>
    public Func<byte[], byte[]>? Render { get; init; }

    public void Emit(string type, byte[] obj) => Events.Writer.TryWrite(ObjectStore.Line(type, Render is null ? obj : Render(obj)));

    public Channel<byte[]> Events { get; } = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });

    public void Close() => Events.Writer.TryComplete();
}

internal sealed partial class ObjectStore
{
    /// <summary>Opens a watch. The backlog (synthetic ADDED events, or history after the resourceVersion, or a 410
    /// ERROR) is queued under the same lock that registers the watcher, so no event is missed or duplicated.</summary>
    public Watcher StartWatch(ResourceDefinition def, string version, string? ns, LabelSelector labels, FieldSelector fields, string? resourceVersion, bool bookmarks, Func<byte[], byte[]>? render = null)
    {
        lock (_lock)
        {
            if (_watchesPaused)
            {
                throw new ApiError(503, "ServiceUnavailable", "watches are paused by the test harness");
            }

            var w = new Watcher
            {
                GroupResource = def.GroupResource,
                Namespace = ns,
                Labels = labels,
                Fields = fields,
                ApiVersion = def.ApiVersion(version),
                Kind = def.Kind,
                Bookmarks = bookmarks,
                Render = render,
            };
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                foreach (var o in Matching(def, ns, labels, fields))
                {
                    w.Emit("ADDED", o.JsonAs(w.ApiVersion));
                }

                w.LastResourceVersion = _rv;
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    throw ApiError.BadRequest($"invalid resource version \"{resourceVersion}\"");
                }

                if (from < _historyStart)
                {
                    WriteExpired(w, from);
                    return w;
                }

                w.LastResourceVersion = from;
                foreach (var ev in _history)
                {
                    if (ev.ResourceVersion > from)
                    {
                        Deliver(w, ev);
                    }
                }
            }

            _watchers.Add(w);
            return w;
        }
    }

    public void StopWatch(Watcher w)
    {
        lock (_lock)
        {
            _watchers.Remove(w);
            w.Close();
        }
    }

    /// <summary>Queues a BOOKMARK at the current resourceVersion behind every event already queued.</summary>
    public void Bookmark(Watcher w)
    {
        lock (_lock)
        {
            if (!w.Bookmarks || !_watchers.Contains(w))
            {
                return;
            }

            var obj = new JsonObject
            {
                ["kind"] = w.Kind,
                ["apiVersion"] = w.ApiVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture), ["creationTimestamp"] = null },
            };
            w.LastResourceVersion = _rv;
            w.Events.Writer.TryWrite(Line("BOOKMARK", Encoding.UTF8.GetBytes(obj.ToJsonString())));
        }
    }

    /// <summary>Compacts: drops the event history and list snapshots, and ends every open watch with a 410 ERROR.</summary>
    public void ExpireHistory()
    {
        lock (_lock)
        {
            _history.Clear();
            _historyStart = _rv;
            _snapshots.Clear();
            _snapshotOrder.Clear();
            foreach (var w in _watchers)
            {
                WriteExpired(w, w.LastResourceVersion);
            }

            _watchers.Clear();
        }
    }

    /// <summary>Ends every open watch without an event and answers new watches 503 until <see cref="ResumeWatches"/>.</summary>
    public void PauseWatches()
    {
        lock (_lock)
        {
            _watchesPaused = true;
            foreach (var w in _watchers)
            {
                w.Close();
            }

            _watchers.Clear();
        }
    }

    public void ResumeWatches()
    {
        lock (_lock)
        {
            _watchesPaused = false;
        }
    }

    private void WriteExpired(Watcher w, long from)
    {
        var status = ApiError.Gone($"too old resource version: {from} ({_historyStart + 1})").ToStatus();
        w.Events.Writer.TryWrite(Line("ERROR", Encoding.UTF8.GetBytes(status.ToJsonString())));
        w.Close();
    }

    private static void Deliver(Watcher w, HistoryEvent ev)
    {
        if (w.GroupResource != ev.GroupResource || (w.Namespace is not null && w.Namespace != ev.Object.Namespace))
        {
            return;
        }

        bool Match(StoredObject? o) => o is not null && w.Labels.Matches(o.Object) && w.Fields.Matches(o.Object);

        var type = ev.Type;
        var now = Match(ev.Object);
        if (type == "MODIFIED")
        {
            // Moving into or out of the selector looks like ADDED or DELETED to this watcher, as on the real server.
            var before = Match(ev.Old);
            type = (before, now) switch
            {
                (true, true) => "MODIFIED",
                (false, true) => "ADDED",
                (true, false) => "DELETED",
                _ => "",
            };
            if (type.Length == 0)
            {
                return;
            }
        }
        else if (type == "DELETED" ? !(now || Match(ev.Old)) : !now)
        {
            return;
        }

        w.LastResourceVersion = ev.ResourceVersion;
        w.Emit(type, ev.Object.JsonAs(w.ApiVersion));
    }

    internal static byte[] Line(string type, byte[] obj)
    {
        var head = Encoding.UTF8.GetBytes($"{{\"type\":\"{type}\",\"object\":");
        var line = new byte[head.Length + obj.Length + 2];
        head.CopyTo(line, 0);
        obj.CopyTo(line, head.Length);
        line[^2] = (byte)'}';
        line[^1] = (byte)'\n';
        return line;
    }
}
