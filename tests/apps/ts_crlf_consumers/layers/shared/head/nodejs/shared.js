exports.shared = () => 'head';
