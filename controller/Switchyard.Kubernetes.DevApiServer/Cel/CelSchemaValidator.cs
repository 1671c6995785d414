using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>
/// The <c>x-kubernetes-validations</c> rules of one CRD version's schema, compiled when the CRD is registered and run
/// against each written object after pruning, defaulting and structural validation, the way apiextensions-apiserver's
/// <c>schema/cel</c> validator does: <c>self</c> is the value at the node that carries the rule; transition rules
/// (those reading <c>oldSelf</c>) run only on update and only where an old value correlates; on update a rule without
/// <c>oldSelf</c> whose value did not change is skipped (validation ratcheting).
/// </summary>
/// <remarks>
/// Differences from the real server, kept on purpose: no static cost estimation at registration, field names are not
/// type-checked against the schema (a misspelt field fails at evaluation with "no such key"), and the cost units are
/// evaluated nodes rather than cel-go's cost model.
/// </remarks>
internal sealed class CelSchemaValidator
{
    /// <summary>Cost one rule may spend on one evaluation (cel-go's per-call limit is 1,000,000 of its units too).</summary>
    public const long DefaultPerRuleLimit = 1_000_000;

    /// <summary>Cost all rules together may spend on one object.</summary>
    public const long DefaultPerObjectLimit = 5_000_000;

    private readonly Node _root;

    private CelSchemaValidator(Node root) => _root = root;

    /// <summary>Cost one rule may spend on one evaluation.</summary>
    public long PerRuleLimit { get; init; } = DefaultPerRuleLimit;

    /// <summary>Cost all rules together may spend on one object.</summary>
    public long PerObjectLimit { get; init; } = DefaultPerObjectLimit;

    /// <summary>How many rules were compiled.</summary>
    public int RuleCount { get; private set; }

    /// <summary>
    /// Compiles every rule under <paramref name="schema"/>. Compile errors are added to <paramref name="errors"/> with the
    /// rule's path under <paramref name="schemaPath"/>; returns null when the schema has no rules at all.
    /// </summary>
    public static CelSchemaValidator? Compile(JsonObject schema, string schemaPath, List<(string Field, string Reason, string Message)> errors)
    {
        var count = 0;
        var root = Build(schema, schemaPath, errors, ref count, depth: 0);
        return root is null ? null : new CelSchemaValidator(root) { RuleCount = count };
    }

    /// <summary>Runs the rules on <paramref name="obj"/> (and <paramref name="old"/> on update); returns the field errors.</summary>
    public List<(string Field, string Reason, string Message)> Validate(JsonObject obj, JsonObject? old)
    {
        var errors = new List<(string, string, string)>();
        var budget = new CelBudget(PerObjectLimit);
        try
        {
            Walk(_root, obj, old, "", errors, budget);
        }
        catch (StopValidation)
        {
            // The budget ran out; the error that says so is already in the list.
        }

        return errors;
    }

    private static Node? Build(JsonObject schema, string path, List<(string, string, string)> errors, ref int count, int depth)
    {
        if (depth > 64)
        {
            return null;
        }

        var node = new Node(schema);
        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            for (var i = 0; i < rules.Count; i++)
            {
                var rulePath = $"{path}.x-kubernetes-validations[{i}]";
                if (rules[i] is not JsonObject r || (string?)r["rule"] is not { } text)
                {
                    errors.Add(($"{rulePath}.rule", "FieldValueRequired", "Required value"));
                    continue;
                }

                try
                {
                    var program = CelProgram.Compile(text);
                    CelProgram? messageExpression = null;
                    if ((string?)r["messageExpression"] is { Length: > 0 } me)
                    {
                        try
                        {
                            messageExpression = CelProgram.Compile(me);
                        }
                        catch (CelException ex)
                        {
                            errors.Add(($"{rulePath}.messageExpression", "FieldValueInvalid", $"Invalid value: \"{me}\": messageExpression compilation failed: {ex.Message}"));
                            continue;
                        }
                    }

                    node.Rules.Add(new Rule(program, text, (string?)r["message"], messageExpression, (string?)r["reason"], (string?)r["fieldPath"]));
                    count++;
                }
                catch (CelException ex)
                {
                    errors.Add(($"{rulePath}.rule", "FieldValueInvalid", $"Invalid value: \"{text}\": compilation failed: {ex.Message}"));
                }
            }
        }

        var any = node.Rules.Count > 0;
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                if (child is JsonObject cs && Build(cs, $"{path}.properties[{name}]", errors, ref count, depth + 1) is { } built)
                {
                    node.Properties[name] = built;
                    any = true;
                }
            }
        }

        if (schema["additionalProperties"] is JsonObject additional && Build(additional, $"{path}.additionalProperties", errors, ref count, depth + 1) is { } add)
        {
            node.Additional = add;
            any = true;
        }

        if (schema["items"] is JsonObject items && Build(items, $"{path}.items", errors, ref count, depth + 1) is { } itemNode)
        {
            node.Items = itemNode;
            any = true;
        }

        return any ? node : null;
    }

    private void Walk(Node node, JsonNode? value, JsonNode? old, string path, List<(string, string, string)> errors, CelBudget budget)
    {
        if (value is null)
        {
            return;
        }

        if (node.Rules.Count > 0)
        {
            RunRules(node, value, old, path, errors, budget);
        }

        switch (value)
        {
            case JsonObject o:
                foreach (var (name, child) in node.Properties)
                {
                    if (o[name] is { } v)
                    {
                        Walk(child, v, (old as JsonObject)?[name], Child(path, name), errors, budget);
                    }
                }

                if (node.Additional is { } additional)
                {
                    foreach (var (key, v) in o)
                    {
                        if (node.Schema["properties"]?[key] is null)
                        {
                            Walk(additional, v, (old as JsonObject)?[key], $"{path}[{key}]", errors, budget);
                        }
                    }
                }

                break;
            case JsonArray a when node.Items is { } items:
                for (var i = 0; i < a.Count; i++)
                {
                    Walk(items, a[i], Correlate(node.Schema, a[i], old as JsonArray), $"{path}[{i}]", errors, budget);
                }

                break;
        }
    }

    private void RunRules(Node node, JsonNode value, JsonNode? old, string path, List<(string, string, string)> errors, CelBudget budget)
    {
        var type = (string?)node.Schema["type"] ?? "";
        var self = CelValues.FromJson(value, node.Schema);
        var oldSelf = old is null ? null : CelValues.FromJson(old, node.Schema);
        var unchanged = old is not null && JsonNode.DeepEquals(value, old);
        foreach (var rule in node.Rules)
        {
            if (rule.Program.UsesOldSelf ? old is null : unchanged)
            {
                continue;
            }

            var ruleBudget = new CelBudget(Math.Min(PerRuleLimit, budget.Remaining));
            object result;
            try
            {
                result = rule.Program.Evaluate(self, oldSelf, ruleBudget);
            }
            catch (CelCostLimitException ex)
            {
                errors.Add((path, "FieldValueInvalid", PerRuleLimit <= budget.Remaining
                    ? $"Invalid value: \"{type}\": '{ex.Message}': no further validation rules will be run due to call cost exceeds limit for rule: {rule.ErrorString}"
                    : $"Invalid value: \"{type}\": validation failed due to running out of cost budget, no further validation rules will be run"));
                throw new StopValidation();
            }
            catch (CelEvaluationException ex)
            {
                Spend(budget, ruleBudget);
                errors.Add((path, "FieldValueInvalid", ex.Message.StartsWith("no such overload", StringComparison.Ordinal)
                    ? $"Invalid value: \"{type}\": '{ex.Message}': call arguments did not match a supported operator, function or macro signature for rule: {rule.ErrorString}"
                    : $"Invalid value: \"{type}\": {ex.Message} evaluating rule: {rule.ErrorString}"));
                continue;
            }

            Spend(budget, ruleBudget);
            if (result is true)
            {
                continue;
            }

            if (result is not false)
            {
                errors.Add((path, "FieldValueInvalid", $"Invalid value: \"{type}\": rule did not evaluate to a bool (got {CelValues.TypeName(result)}): {rule.ErrorString}"));
                continue;
            }

            var detail = MessageFor(rule, self, oldSelf, budget) ?? rule.DefaultMessage;
            var field = rule.FieldPath is { Length: > 0 } fp ? Child(path, fp.TrimStart('.')) : path;
            errors.Add(rule.Reason switch
            {
                "FieldValueForbidden" => (field, "FieldValueForbidden", $"Forbidden: {detail}"),
                "FieldValueRequired" => (field, "FieldValueRequired", $"Required value: {detail}"),
                "FieldValueDuplicate" => (field, "FieldValueDuplicate", $"Duplicate value: \"{type}\""),
                _ => (field, "FieldValueInvalid", $"Invalid value: \"{type}\": {detail}"),
            });
        }
    }

    private string? MessageFor(Rule rule, object self, object? oldSelf, CelBudget budget)
    {
        if (rule.MessageExpression is null)
        {
            return null;
        }

        var messageBudget = new CelBudget(Math.Min(PerRuleLimit, budget.Remaining));
        try
        {
            var text = rule.MessageExpression.Evaluate(self, oldSelf, messageBudget) as string;
            Spend(budget, messageBudget);
            text = text?.Trim();
            return string.IsNullOrEmpty(text) || text.Contains('\n', StringComparison.Ordinal) || text.Length > 5 * 1024 ? null : text;
        }
        catch (CelException)
        {
            // The server logs a failed messageExpression and falls back to the static message.
            return null;
        }
    }

    private static void Spend(CelBudget total, CelBudget used) => total.Charge(used.Limit - Math.Max(used.Remaining, 0));

    private static string Child(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <summary>
    /// The old element an array element correlates with: only lists of <c>x-kubernetes-list-type: map</c> correlate,
    /// by their <c>x-kubernetes-list-map-keys</c> (as apiextensions' ratcheting and transition rules do).
    /// </summary>
    private static JsonNode? Correlate(JsonObject listSchema, JsonNode? item, JsonArray? old)
    {
        if (old is null || item is not JsonObject io || (string?)listSchema["x-kubernetes-list-type"] != "map" ||
            listSchema["x-kubernetes-list-map-keys"] is not JsonArray { Count: > 0 } keys)
        {
            return null;
        }

        foreach (var candidate in old)
        {
            if (candidate is JsonObject co && keys.All(k => (string?)k is { } key && JsonNode.DeepEquals(io[key], co[key])))
            {
                return candidate;
            }
        }

        return null;
    }

    private sealed class StopValidation : Exception;

    private sealed class Node(JsonObject schema)
    {
        public JsonObject Schema { get; } = schema;

        public List<Rule> Rules { get; } = [];

        public Dictionary<string, Node> Properties { get; } = new(StringComparer.Ordinal);

        public Node? Additional { get; set; }

        public Node? Items { get; set; }
    }

    private sealed record Rule(CelProgram Program, string Text, string? Message, CelProgram? MessageExpression, string? Reason, string? FieldPath)
    {
        /// <summary>ruleErrorString: the message when there is one, else the rule.</summary>
        public string ErrorString => string.IsNullOrWhiteSpace(Message) ? Text.Trim() : Message.Trim();

        /// <summary>ruleMessageOrDefault.</summary>
        public string DefaultMessage => string.IsNullOrWhiteSpace(Message) ? $"failed rule: {Text.Trim()}" : Message.Trim();
    }
}
