namespace Switchyard.Kubernetes.Config;

/// <summary>A kubeconfig or in-cluster configuration could not be read or is incomplete.</summary>
public sealed class KubeconfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KubeconfigException() { }

    /// <summary>Creates the exception with a message.</summary>
    public KubeconfigException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public KubeconfigException(string message, Exception innerException) : base(message, innerException) { }
}
